using System.CommandLine;
using BlurVae.Training.Cli;

return BlurVaeCli.Build().Parse(args).Invoke();

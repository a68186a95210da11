using BlurVae.Training.Cli;

return BlurVaeCli.Run(args);

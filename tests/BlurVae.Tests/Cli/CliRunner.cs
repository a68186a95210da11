using System.CommandLine;
using BlurVae.Training.Cli;

namespace BlurVae.Tests.Cli;

/// <summary>Runs the `blurvae` command in-process and captures what it writes (its own writers and the Console).</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var originalOut = Console.Out;
        var originalErr = Console.Error;
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = BlurVaeCli.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalErr);
        }
    }
}

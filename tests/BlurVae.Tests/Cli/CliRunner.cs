namespace BlurVae.Tests.Cli;

/// <summary>Runs the `blurvae` command in-process, through the same entry point and error path as Program, and captures what it writes (its own writers and the Console).</summary>
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
            int code = BlurVaeCli.Run(args, output, error);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalErr);
        }
    }
}

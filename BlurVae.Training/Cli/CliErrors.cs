using System.Text.Json;
using BlurVae.Training.Train;

namespace BlurVae.Training.Cli;

/// <summary>
/// The CLI's one error path. Exit codes: 0 done, 1 a user error (bad flag, config, data, checkpoint, output folder or
/// resource limit: one paragraph naming it and the fix, no stack trace unless --verbose), 2 a usage error (the command
/// line does not parse; System.CommandLine names the token), 70 an internal error (EX_SOFTWARE: "this is a bug" and
/// the stack trace, so that it cannot be mistaken for a user's mistake).
/// </summary>
public static class CliErrors
{
    public const int ExitUserError = 1;
    public const int ExitUsageError = 2;
    public const int ExitInternalError = 70;

    /// <summary>
    /// Whether an exception is the user's to fix. Besides <see cref="UserError"/>: bad values (ArgumentException, thrown
    /// by validation with the flag's name), unreadable or malformed files (IOException, InvalidDataException,
    /// UnauthorizedAccessException, JsonException), a diverged run and an unsupported combination.
    /// </summary>
    public static bool IsUserError(Exception e) =>
        e is UserError or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
            or JsonException or NonFiniteLossException or NotSupportedException;

    /// <summary>Runs a command's action and turns any exception into its message and exit code.</summary>
    public static int Run(Func<int> action, TextWriter error, bool verbose)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(e, error, verbose);
        }
    }

    public static int Report(Exception e, TextWriter error, bool verbose)
    {
        if (IsUserError(e))
        {
            error.WriteLine($"blurvae: {MessageOf(e)}");
            if (verbose) error.WriteLine(e);
            return ExitUserError;
        }
        error.WriteLine($"blurvae: internal error (this is a bug; please report it with the command line and the trace below): {e.GetType().Name}: {e.Message}");
        error.WriteLine(e);
        return ExitInternalError;
    }

    /// <summary>
    /// The message alone: ArgumentException appends "(Parameter 'x')" and ArgumentOutOfRangeException "Actual value
    /// was …", which name C# parameters rather than flags, so those lines are dropped.
    /// </summary>
    internal static string MessageOf(Exception e)
    {
        string message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
            int actual = message.IndexOf("\nActual value was", StringComparison.Ordinal);
            if (actual < 0) actual = message.IndexOf("\r\nActual value was", StringComparison.Ordinal);
            if (actual >= 0) message = message[..actual];
        }
        return message.Trim();
    }
}

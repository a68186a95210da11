namespace BlurVae.Training.Errors;

/// <summary>
/// A failure the user caused and can fix: a bad flag, config value, data file, checkpoint or output folder, or a size
/// that does not fit this machine. The message is one paragraph that names the flag, file or field and says what would
/// fix it; the CLI prints it without a stack trace and exits with code 1 (see the CLI's CliErrors).
/// </summary>
public sealed class UserError(string message, Exception? inner = null) : Exception(message, inner);

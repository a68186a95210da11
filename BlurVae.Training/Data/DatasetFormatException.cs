namespace BlurVae.Training.Data;

/// <summary>
/// A data file that cannot be read as what it claims to be (bad magic, truncated data, a header that disagrees
/// with the file size, an unsupported element type, an undecodable image...). The message starts with the file.
/// An IOException (System.IO.InvalidDataException is sealed), so code that handles I/O failures handles it too.
/// </summary>
public sealed class DatasetFormatException : IOException
{
    public DatasetFormatException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}

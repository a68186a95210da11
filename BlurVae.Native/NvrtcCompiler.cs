using System.Runtime.InteropServices;
using System.Text;

namespace BlurVae.Native;

/// <summary>Compiles CUDA C++ source to PTX with NVRTC.</summary>
public static unsafe class NvrtcCompiler
{
    /// <summary>
    /// Compiles <paramref name="source"/> (named <paramref name="name"/> in diagnostics) with the given NVRTC options
    /// (e.g. "--gpu-architecture=compute_80"). Returns the PTX and NVRTC's log (warnings; empty when clean).
    /// A compile error throws a <see cref="CudaException"/> whose message carries the log.
    /// <paramref name="headers"/> are in-memory headers: an <c>#include "Name"</c> in the source resolves to that
    /// header's text without touching the file system.
    /// </summary>
    public static (string Ptx, string Log) Compile(string source, string name, IEnumerable<string> options,
                                                   IEnumerable<(string Name, string Source)>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        var optionList = options.ToArray();
        var headerList = headers?.ToArray() ?? [];
        foreach (var (headerName, headerSource) in headerList)
        {
            ArgumentException.ThrowIfNullOrEmpty(headerName, nameof(headers));
            ArgumentNullException.ThrowIfNull(headerSource, $"{nameof(headers)}[{headerName}]");
        }

        var utf8Options = new nint[optionList.Length];
        var utf8Headers = new nint[headerList.Length];
        var utf8IncludeNames = new nint[headerList.Length];
        nint program = 0;
        try
        {
            for (var i = 0; i < optionList.Length; i++)
                utf8Options[i] = Marshal.StringToCoTaskMemUTF8(optionList[i]);
            for (var i = 0; i < headerList.Length; i++)
            {
                utf8Headers[i] = Marshal.StringToCoTaskMemUTF8(headerList[i].Source);
                utf8IncludeNames[i] = Marshal.StringToCoTaskMemUTF8(headerList[i].Name);
            }
            var sourceBytes = NullTerminated(source);
            var nameBytes = NullTerminated(name);
            fixed (byte* s = sourceBytes, n = nameBytes)
            fixed (nint* h = utf8Headers, inc = utf8IncludeNames)
                Nvrtc.Check(Nvrtc.nvrtcCreateProgram(&program, s, n, headerList.Length,
                    headerList.Length == 0 ? null : (byte**)h, headerList.Length == 0 ? null : (byte**)inc), "nvrtcCreateProgram");

            int status;
            fixed (nint* o = utf8Options)
                status = Nvrtc.nvrtcCompileProgram(program, optionList.Length, (byte**)o);
            var log = ReadLog(program);
            Nvrtc.Check(status, $"nvrtcCompileProgram({name}, {string.Join(' ', optionList)})", log);

            nuint size;
            Nvrtc.Check(Nvrtc.nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
            var ptx = new byte[(int)size];
            fixed (byte* p = ptx)
                Nvrtc.Check(Nvrtc.nvrtcGetPTX(program, p), "nvrtcGetPTX");
            return (Decode(ptx), log);
        }
        finally
        {
            if (program != 0) Nvrtc.nvrtcDestroyProgram(&program);
            foreach (var p in utf8Options.Concat(utf8Headers).Concat(utf8IncludeNames))
                if (p != 0) Marshal.FreeCoTaskMem(p);
        }
    }

    private static string ReadLog(nint program)
    {
        nuint size;
        Nvrtc.Check(Nvrtc.nvrtcGetProgramLogSize(program, &size), "nvrtcGetProgramLogSize");
        var log = new byte[(int)size];
        if (log.Length == 0) return "";
        fixed (byte* p = log)
            Nvrtc.Check(Nvrtc.nvrtcGetProgramLog(program, p), "nvrtcGetProgramLog");
        return Decode(log);
    }

    private static byte[] NullTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    // NVRTC's sizes include the terminating NUL.
    private static string Decode(byte[] bytes)
    {
        var length = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, length < 0 ? bytes.Length : length);
    }
}

namespace BlurVae.Kernels;

/// <summary>Element type of a tensor. Float64 exists for gradient checks and reference runs.</summary>
public enum DType
{
    Float32,
    Float64,
}

public static class DTypeExtensions
{
    public static int SizeInBytes(this DType dtype) => dtype == DType.Float32 ? 4 : 8;
}

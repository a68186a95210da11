
/// <summary>
/// For the whole test run, the CPU backend fills uninitialised buffers with NaN (the emulated device always does),
/// so an op that reads an output element it never wrote fails here instead of reading a lucky zero.
/// </summary>
[SetUpFixture]
public class PoisonUninitializedSetUp
{
    [OneTimeSetUp]
    public void TurnOn() => CpuBackend.PoisonUninitialized = true;
}

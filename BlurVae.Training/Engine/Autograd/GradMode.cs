namespace BlurVae.Training.Engine.Autograd;

/// <summary>Whether ops record the graph (per thread). Turn off with <c>using (GradMode.NoGrad()) { … }</c>.</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    /// <summary>Within the returned scope no op records a graph; scopes nest.</summary>
    public static IDisposable NoGrad()
    {
        _disabledDepth++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _disabledDepth--;
        }
    }
}

using System.Runtime.InteropServices;

namespace Gateway.Hosting.Memory;

/// <summary>
/// The C heap under the runtime. glibc keeps what its per-thread arenas freed mapped until <c>malloc_trim</c> hands the
/// free pages back; a burst that made the thread pool grow leaves that behind. No-op where there is no glibc (musl, not Linux).
/// </summary>
internal static class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (_unavailable)
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true;
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}

using System.Runtime.InteropServices;

namespace Blueprint.Lab.Reporting;

/// <summary>The machine an experiment ran on, for the record.</summary>
/// <param name="Os">The operating system description.</param>
/// <param name="Cores">The logical processor count.</param>
/// <param name="DotNet">The .NET runtime description.</param>
/// <param name="Cpu">The CPU model, when the OS exposes it.</param>
public sealed record MachineInfo(string Os, int Cores, string DotNet, string? Cpu)
{
    /// <summary>Describes the current machine.</summary>
    /// <returns>The machine info.</returns>
    public static MachineInfo Current() =>
        new(RuntimeInformation.OSDescription, Environment.ProcessorCount, RuntimeInformation.FrameworkDescription, ReadCpuModel());

    /// <summary>
    /// The one-minute load average (runnable processes, Linux's <c>/proc/loadavg</c>), or null where the OS does not
    /// expose it: experiments that time real processes state it, since other work on the machine slows them.
    /// </summary>
    /// <returns>The load average.</returns>
    public static double? LoadAverage()
    {
        const string LoadFile = "/proc/loadavg";
        try
        {
            return File.Exists(LoadFile)
                && double.TryParse(File.ReadAllText(LoadFile).Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double load)
                ? load
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadCpuModel()
    {
        const string CpuInfo = "/proc/cpuinfo";
        try
        {
            if (!File.Exists(CpuInfo))
            {
                return null;
            }

            string? line = File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

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

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

using Blueprint.Lab.Experiments;

namespace Blueprint.Lab.Reporting;

/// <summary>Writes the machine-readable result: <c>{ experiment, claims[], machine, date, seed, quick }</c>.</summary>
public static class JsonReport
{
    /// <summary>Renders <paramref name="result"/> as indented JSON.</summary>
    /// <param name="result">The result.</param>
    /// <param name="options">The options it ran with.</param>
    /// <param name="machine">The machine.</param>
    /// <param name="date">When it ran.</param>
    /// <returns>The JSON text.</returns>
    public static string Render(ExperimentResult result, ExperimentOptions options, MachineInfo machine, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(machine);
        using MemoryStream stream = new();
        using (Utf8JsonWriter json = new(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("experiment", result.Experiment);
            json.WriteStartArray("claims");
            foreach (Claim claim in result.Claims)
            {
                json.WriteStartObject();
                json.WriteString("id", claim.Id);
                json.WriteString("claim", claim.Statement);
                json.WriteString("expected", claim.Expected);
                json.WriteString("measured", claim.Measured);
                json.WriteBoolean("holds", claim.Holds);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("machine");
            json.WriteString("os", machine.Os);
            json.WriteNumber("cores", machine.Cores);
            json.WriteString("dotnet", machine.DotNet);
            if (machine.Cpu is null)
            {
                json.WriteNull("cpu");
            }
            else
            {
                json.WriteString("cpu", machine.Cpu);
            }

            json.WriteEndObject();
            json.WriteString("date", date.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("seed", options.Seed);
            json.WriteBoolean("quick", options.Quick);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

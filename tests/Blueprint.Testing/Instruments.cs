using System.Diagnostics.Metrics;

namespace Blueprint.Testing;

/// <summary>
/// Reads a node's observable instruments once, as a metrics collection would. Every node's meter has the same name
/// process-wide and other tests' nodes run in this process too, so the meter's scope (the node's
/// <see cref="IMeterFactory"/>) tells this node's instruments apart.
/// </summary>
public static class Instruments
{
    /// <summary>One measurement: its value and its tags as text.</summary>
    public sealed record Reading(double Value, IReadOnlyDictionary<string, string?> Tags);

    /// <summary>Observes the instrument <paramref name="name"/> of the meters <paramref name="factory"/> created.</summary>
    public static List<Reading> Observe(IMeterFactory factory, string name)
    {
        var readings = new List<Reading>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == name && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var (key, tag) in tags)
            {
                copy[key] = Convert.ToString(tag, System.Globalization.CultureInfo.InvariantCulture);
            }

            lock (readings)
            {
                readings.Add(new Reading(value, copy));
            }
        }

        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Add(value, tags));
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) => Add(value, tags));
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Add(value, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        return readings;
    }
}

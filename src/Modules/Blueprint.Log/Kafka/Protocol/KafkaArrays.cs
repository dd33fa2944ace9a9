namespace Blueprint.Log.Kafka.Protocol;

/// <summary>Arrays of primitives, shared by the message codecs.</summary>
internal static class KafkaArrays
{
    public static List<int> ReadInt32List(ref KafkaReader reader, bool compact)
    {
        int count = reader.ReadNonNullArrayLength(compact);
        var list = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(reader.ReadInt32());
        }

        return list;
    }

    public static void WriteInt32List(ref KafkaWriter writer, List<int> list, bool compact)
    {
        writer.WriteArrayLength(list.Count, compact);
        foreach (int value in list)
        {
            writer.WriteInt32(value);
        }
    }

    public static List<string> ReadStringList(ref KafkaReader reader, bool compact)
    {
        int count = reader.ReadNonNullArrayLength(compact);
        var list = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(reader.ReadString(compact));
        }

        return list;
    }

    public static void WriteStringList(ref KafkaWriter writer, List<string> list, bool compact)
    {
        writer.WriteArrayLength(list.Count, compact);
        foreach (string value in list)
        {
            writer.WriteString(value, compact);
        }
    }

    public static void EndStruct(ref KafkaReader reader, bool flexible)
    {
        if (flexible)
        {
            reader.SkipTaggedFields();
        }
    }

    public static void EndStruct(ref KafkaWriter writer, bool flexible)
    {
        if (flexible)
        {
            writer.WriteEmptyTaggedFields();
        }
    }
}

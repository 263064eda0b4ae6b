using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffusionSteeringLens.Tests.Reliability;

/// <summary>
/// Deterministic mutations of file bytes (a seeded <see cref="Random"/> drives every choice, so a run is reproducible
/// from its seed). Generic byte operators work on any file; JSON, safetensors and PNG/JPEG operators aim at the fields
/// a parser trusts: numbers, types, keys, nesting, encodings, declared lengths and image dimensions.
/// </summary>
internal sealed class SeededMutator(int seed)
{
    private readonly Random _random = new(seed);

    private static readonly long[] InterestingIntegers =
    {
        0, 1, -1, 2, 7, 8, 255, 256, 65535, 65536, 100_000, int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue,
        1L << 40, long.MaxValue, long.MinValue, int.MinValue,
    };

    private static readonly string[] HostileNumbers =
    {
        "NaN", "-NaN", "Infinity", "-Infinity", "-1", "-0", "0", "1e400", "-1e400", "1e-400", "99999999999999999999999",
        "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.5", "0.0000001",
        "1E+2", "0x10", "01", "+1", "1.", ".5",
    };

    private static readonly string[] WrongTypes = { "\"x\"", "\"\"", "[]", "{}", "null", "true", "false", "[1,\"a\"]", "{\"a\":1}", "[[1]]", "\"3\"" };

    private static readonly string[] HostileStrings =
    {
        "F32", "F8", "", "BOOL", "U64", "I8", "__metadata__", "UNet2DConditionModel", "VQModel", "DDPMScheduler", "spatial",
        "image_proj", "scale_shift", "\\u0000", "\\ud800", "\\uDFFF", "a\\\"b", new string('k', 300),
    };

    /// <summary>Which operator made the last mutant (for the per-class counts).</summary>
    public string LastOperator { get; private set; } = "";

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    /// <summary>One to three generic byte mutations.</summary>
    public byte[] MutateBytes(byte[] input)
    {
        var data = input;
        int rounds = 1 + _random.Next(3);
        var names = new List<string>();
        for (int i = 0; i < rounds; i++)
        {
            var (name, next) = (_random.Next(8)) switch
            {
                0 => ("bit flips", FlipBits(data)),
                1 => ("interesting bytes", InterestingBytes(data)),
                2 => ("interesting integers", InterestingInteger(data)),
                3 => ("truncation", Truncate(data)),
                4 => ("deleted range", DeleteRange(data)),
                5 => ("duplicated range", DuplicateRange(data)),
                6 => ("random insert", InsertRandom(data)),
                _ => ("appended garbage", Append(data)),
            };
            names.Add(name);
            data = next;
        }
        LastOperator = names[0];
        return data;
    }

    /// <summary>A JSON-aware mutation of UTF-8 JSON text (numbers, types, keys, nesting, encodings).</summary>
    public byte[] MutateJson(byte[] json)
    {
        var text = Encoding.UTF8.GetString(json);
        switch (_random.Next(11))
        {
            case 0: LastOperator = "hostile number"; return Utf8(ReplaceToken(text, NumberToken, HostileNumbers[_random.Next(HostileNumbers.Length)]));
            case 1: LastOperator = "wrong JSON type"; return Utf8(ReplaceToken(text, ValueToken, WrongTypes[_random.Next(WrongTypes.Length)]));
            case 2: LastOperator = "hostile string"; return Utf8(ReplaceToken(text, StringValueToken, "\"" + HostileStrings[_random.Next(HostileStrings.Length)] + "\""));
            case 3: LastOperator = "duplicate key"; return Utf8(DuplicateKey(text));
            case 4: LastOperator = "deep nesting"; return Utf8(DeepNesting(text));
            case 5: LastOperator = "byte order mark"; return new byte[] { 0xEF, 0xBB, 0xBF }.Concat(json).ToArray();
            case 6: LastOperator = "invalid UTF-8"; return InvalidUtf8(json);
            case 7: LastOperator = "huge integer"; return Utf8(ReplaceToken(text, NumberToken, InterestingIntegers[_random.Next(InterestingIntegers.Length)].ToString()));
            case 8: LastOperator = "removed key"; return Utf8(RemoveKey(text));
            case 9: LastOperator = "broken structure"; return Utf8(BreakStructure(text));
            default: LastOperator = "number array growth"; return Utf8(GrowArray(text));
        }
    }

    /// <summary>
    /// A safetensors mutation: the header JSON mutated and re-prefixed with its true length (so the parser reaches the
    /// JSON), a lying length prefix, or a generic byte mutation.
    /// </summary>
    public byte[] MutateSafetensors(byte[] file)
    {
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = file.AsSpan(8, (int)headerLength).ToArray();
        var data = file.AsSpan(8 + (int)headerLength).ToArray();
        switch (_random.Next(4))
        {
            case 0:
            case 1:
            {
                var mutated = MutateJson(header);
                LastOperator = "header: " + LastOperator;
                return Prefixed(mutated, data);
            }
            case 2:
            {
                LastOperator = "length prefix";
                var copy = (byte[])file.Clone();
                long declared = _random.Next(3) switch
                {
                    0 => InterestingIntegers[_random.Next(InterestingIntegers.Length)],
                    1 => (long)headerLength + _random.Next(-16, 17),
                    _ => file.Length - 8 + _random.Next(-2, 3),
                };
                BinaryPrimitives.WriteInt64LittleEndian(copy, declared);
                return copy;
            }
            default:
                var bytes = MutateBytes(file);
                LastOperator = "bytes: " + LastOperator;
                return bytes;
        }
    }

    /// <summary>A PNG mutation: declared dimensions (with a valid CRC, so the size is believed), chunk surgery, or bytes.</summary>
    public byte[] MutatePng(byte[] png)
    {
        switch (_random.Next(4))
        {
            case 0:
                LastOperator = "declared dimensions";
                return PngChunks.WithDimensions(png, HostileDimension(), HostileDimension());
            case 1:
                LastOperator = "chunk data, CRC fixed";
                return PngChunks.MutateChunkData(png, _random, d => MutateBytes(d));
            case 2:
                LastOperator = "chunk lengths";
                return PngChunks.WithChunkLength(png, _random, InterestingIntegers[_random.Next(InterestingIntegers.Length)]);
            default:
                var bytes = MutateBytes(png);
                LastOperator = "bytes: " + LastOperator;
                return bytes;
        }
    }

    /// <summary>A JPEG/WebP mutation: the JPEG frame header's dimensions, or bytes.</summary>
    public byte[] MutateJpeg(byte[] jpeg)
    {
        if (_random.Next(3) == 0 && JpegFrame.Find(jpeg) is { } sof)
        {
            LastOperator = "declared dimensions";
            var copy = (byte[])jpeg.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), (ushort)Math.Clamp(HostileDimension(), 0, 65535));
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), (ushort)Math.Clamp(HostileDimension(), 0, 65535));
            return copy;
        }
        var bytes = MutateBytes(jpeg);
        LastOperator = "bytes: " + LastOperator;
        return bytes;
    }

    private long HostileDimension() => _random.Next(6) switch
    {
        0 => 100_000,
        1 => 65_535,
        2 => 0,
        3 => int.MaxValue,
        4 => 1 + _random.Next(4096),
        _ => 1L << _random.Next(31),
    };

    private static byte[] Prefixed(byte[] header, byte[] data)
    {
        var result = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        data.CopyTo(result, 8 + header.Length);
        return result;
    }

    private byte[] FlipBits(byte[] d)
    {
        if (d.Length == 0) return d;
        var c = (byte[])d.Clone();
        int n = 1 + _random.Next(8);
        for (int i = 0; i < n; i++) c[_random.Next(c.Length)] ^= (byte)(1 << _random.Next(8));
        return c;
    }

    private byte[] InterestingBytes(byte[] d)
    {
        if (d.Length == 0) return d;
        var c = (byte[])d.Clone();
        byte[] values = { 0x00, 0xFF, 0x7F, 0x80, 0x01, (byte)'{', (byte)'"', 0xC0 };
        int n = 1 + _random.Next(4);
        for (int i = 0; i < n; i++) c[_random.Next(c.Length)] = values[_random.Next(values.Length)];
        return c;
    }

    private byte[] InterestingInteger(byte[] d)
    {
        if (d.Length < 8) return d;
        var c = (byte[])d.Clone();
        long v = InterestingIntegers[_random.Next(InterestingIntegers.Length)];
        int at = _random.Next(c.Length - 7);
        switch (_random.Next(4))
        {
            case 0: BinaryPrimitives.WriteInt32LittleEndian(c.AsSpan(at), (int)v); break;
            case 1: BinaryPrimitives.WriteInt32BigEndian(c.AsSpan(at), (int)v); break;
            case 2: BinaryPrimitives.WriteInt64LittleEndian(c.AsSpan(at), v); break;
            default: BinaryPrimitives.WriteInt64BigEndian(c.AsSpan(at), v); break;
        }
        return c;
    }

    private byte[] Truncate(byte[] d) => d.Length == 0 ? d : d[.._random.Next(d.Length)];

    private byte[] DeleteRange(byte[] d)
    {
        if (d.Length < 2) return d;
        int start = _random.Next(d.Length);
        int length = 1 + _random.Next(Math.Min(64, d.Length - start));
        return d[..start].Concat(d[(start + length)..]).ToArray();
    }

    private byte[] DuplicateRange(byte[] d)
    {
        if (d.Length < 2) return d;
        int start = _random.Next(d.Length);
        int length = 1 + _random.Next(Math.Min(256, d.Length - start));
        int at = _random.Next(d.Length);
        return d[..at].Concat(d.AsSpan(start, length).ToArray()).Concat(d[at..]).ToArray();
    }

    private byte[] InsertRandom(byte[] d)
    {
        var extra = new byte[1 + _random.Next(32)];
        _random.NextBytes(extra);
        int at = _random.Next(d.Length + 1);
        return d[..at].Concat(extra).Concat(d[at..]).ToArray();
    }

    private byte[] Append(byte[] d)
    {
        var extra = new byte[1 + _random.Next(1024)];
        _random.NextBytes(extra);
        return d.Concat(extra).ToArray();
    }

    private static readonly Regex NumberToken = new(@"(?<=[:\[,]\s*)-?\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.Compiled);
    private static readonly Regex ValueToken = new(@"(?<=[:\[,]\s*)(""(?:[^""\\]|\\.)*""|-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|\[[^\[\]{}]*\])", RegexOptions.Compiled);
    private static readonly Regex StringValueToken = new(@"(?<=:\s*|[\[,]\s*)""(?:[^""\\]|\\.)*""(?=\s*[,\]}])", RegexOptions.Compiled);
    private static readonly Regex KeyValue = new(@"""(?:[^""\\]|\\.)*""\s*:\s*(""(?:[^""\\]|\\.)*""|-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|\[[^\[\]{}]*\]|\{[^{}]*\})", RegexOptions.Compiled);

    private string ReplaceToken(string text, Regex token, string replacement)
    {
        var matches = token.Matches(text);
        if (matches.Count == 0) return text + replacement;
        var m = matches[_random.Next(matches.Count)];
        return text[..m.Index] + replacement + text[(m.Index + m.Length)..];
    }

    private string DuplicateKey(string text)
    {
        var matches = KeyValue.Matches(text);
        if (matches.Count == 0) return text;
        var m = matches[_random.Next(matches.Count)];
        int brace = text.IndexOf('{', 0);
        // Insert the copy right after the object's opening brace that precedes it (same object for flat configs).
        int open = text.LastIndexOf('{', m.Index);
        int at = (open >= 0 ? open : brace) + 1;
        return text[..at] + m.Value + "," + text[at..];
    }

    private string RemoveKey(string text)
    {
        var matches = KeyValue.Matches(text);
        if (matches.Count == 0) return text;
        var m = matches[_random.Next(matches.Count)];
        return text[..m.Index] + "\"removed_key\": null" + text[(m.Index + m.Length)..];
    }

    private string DeepNesting(string text)
    {
        int depth = _random.Next(4) switch { 0 => 63, 1 => 65, 2 => 1000, _ => 100_000 };
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        return ReplaceToken(text, ValueToken, nested);
    }

    private byte[] InvalidUtf8(byte[] json)
    {
        byte[][] bad = { new byte[] { 0xFF }, new byte[] { 0xC0, 0x80 }, new byte[] { 0xED, 0xA0, 0x80 }, new byte[] { 0xE2, 0x82 }, new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 }, new byte[] { 0x80 } };
        var quotes = json.Select((b, i) => (b, i)).Where(x => x.b == (byte)'"').Select(x => x.i).ToArray();
        int at = quotes.Length == 0 ? _random.Next(json.Length + 1) : quotes[_random.Next(quotes.Length)] + 1;
        return json[..at].Concat(bad[_random.Next(bad.Length)]).Concat(json[at..]).ToArray();
    }

    private string BreakStructure(string text) => _random.Next(5) switch
    {
        0 => text.TrimEnd().TrimEnd('}'),
        1 => text + ",",
        2 => text.Replace(":", "", StringComparison.Ordinal),
        3 => "[" + text + "]",
        _ => text.Replace("\"", "'", StringComparison.Ordinal),
    };

    private string GrowArray(string text)
    {
        var arrays = Regex.Matches(text, @"\[(\s*-?\d+\s*,?)+\]");
        if (arrays.Count == 0) return text;
        var m = arrays[_random.Next(arrays.Count)];
        int count = _random.Next(3) switch { 0 => 0, 1 => 40, _ => 5 };
        var replacement = "[" + string.Join(",", Enumerable.Range(1, count).Select(i => (i * 8).ToString())) + "]";
        return text[..m.Index] + replacement + text[(m.Index + m.Length)..];
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}

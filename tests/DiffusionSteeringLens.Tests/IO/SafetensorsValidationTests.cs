using System.Text;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.IO;

/// <summary>One crafted bad file per validation rule; each must raise the documented type with a message naming the problem.</summary>
public sealed class SafetensorsValidationTests
{
    private static string Craft(string header, int dataBytes, ulong? declaredLength = null, string name = "bad.safetensors")
    {
        var path = Path.Combine(Fixtures.TempFolder(), name);
        var h = Encoding.UTF8.GetBytes(header);
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes(declaredLength ?? (ulong)h.Length));
        s.Write(h);
        s.Write(new byte[dataBytes]);
        return path;
    }

    private static SafetensorsFormatException Bad(string path)
    {
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(Path.GetFullPath(path), ex.FilePath);
        return ex;
    }

    [Fact]
    public void FileShorterThanLengthPrefix()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "short.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        Assert.Contains("8-byte header length", Bad(path).Message);
    }

    [Fact]
    public void HeaderLengthBeyondFile() =>
        Assert.Contains("exceeds the", Bad(Craft("{}", 0, declaredLength: 1_000_000)).Message);

    [Fact]
    public void MalformedJson() =>
        Assert.Contains("not well-formed JSON", Bad(Craft("{\"a\": [1,", 0)).Message);

    [Fact]
    public void RootNotAnObject() =>
        Assert.Contains("must be a JSON object", Bad(Craft("[1, 2]", 0)).Message);

    [Fact]
    public void UnknownDType() =>
        Assert.Contains("unknown dtype 'F8'", Bad(Craft("{\"w\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2)).Message);

    [Fact]
    public void ShapeTimesElementSizeMismatch()
    {
        var msg = Bad(Craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20)).Message;
        Assert.Contains("tensor 'w'", msg);
        Assert.Contains("24 bytes", msg);
        Assert.Contains("span 20 bytes", msg);
    }

    [Fact]
    public void OffsetsOutsideDataSection() =>
        Assert.Contains("run past the end of the data section", Bad(Craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)).Message);

    [Fact]
    public void BeginAfterEnd() =>
        Assert.Contains("0 <= begin <= end", Bad(Craft("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,2]}}", 8)).Message);

    [Fact]
    public void OverlappingTensors()
    {
        var msg = Bad(Craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)).Message;
        Assert.Contains("overlap", msg);
        Assert.Contains("'a'", msg);
        Assert.Contains("'b'", msg);
    }

    [Fact]
    public void NegativeShape() =>
        Assert.Contains("non-negative integers", Bad(Craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0)).Message);

    [Fact]
    public void MetadataMustBeStrings() =>
        Assert.Contains("__metadata__ entry 'n'", Bad(Craft("{\"__metadata__\":{\"n\":3}}", 0)).Message);

    [Fact]
    public void PickleCheckpointsAreRefusedWithAdvice()
    {
        var dir = Fixtures.TempFolder();
        var bin = Path.Combine(dir, "pytorch_model.bin");
        File.WriteAllBytes(bin, new byte[] { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20 });
        var ex = Assert.Throws<UnsupportedCheckpointFormatException>(() => SafetensorsFile.Open(bin));
        Assert.Contains(".safetensors", ex.Message);

        var zip = Path.Combine(dir, "weights.safetensors");
        File.WriteAllBytes(zip, new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0 });
        Assert.Throws<UnsupportedCheckpointFormatException>(() => SafetensorsFile.Open(zip));

        var folderEx = Assert.Throws<UnsupportedCheckpointFormatException>(() => CheckpointLocator.Open(dir, "pytorch_model"));
        Assert.Contains("pytorch_model.safetensors", folderEx.Message);
    }

    [Fact]
    public void SafetensorsWhoseLengthLooksLikePickleMagicIsNotRefused()
    {
        // Header length 0x280 starts with bytes 80 02, the pickle protocol-2 magic; byte 8 is '{' so it is safetensors.
        var header = "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}".PadRight(0x280);
        var path = Craft(header, 1, name: "ok.safetensors");
        using var f = SafetensorsFile.Open(path);
        Assert.True(f.Contains("w"));
    }

    [Fact]
    public void MissingFolderAndEmptyFolderAreClear()
    {
        Assert.Throws<DirectoryNotFoundException>(() => CheckpointLocator.Open(Path.Combine(Fixtures.TempFolder(), "nope")));
        var ex = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Open(Fixtures.TempFolder(), "model"));
        Assert.Contains("model.safetensors", ex.Message);
    }
}

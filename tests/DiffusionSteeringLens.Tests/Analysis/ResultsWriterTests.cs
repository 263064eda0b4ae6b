using DiffusionSteeringLens.Lenses;
using System.Text.Json;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Tests.TestSupport;

namespace DiffusionSteeringLens.Tests.Analysis;

public sealed class ResultsWriterTests
{
    [Fact]
    public void RecordsRoundTripThroughJsonIncludingNaN()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "r.json");
        var corr = new CorrelationResult(0.5, 0.01, new[] { 0.4, double.NaN }, 99);
        var traj = new Trajectory("dsl", new[] { new HeadTarget(1, 1), new HeadTarget(0, 1) }, new[] { 1.0, 0.8, 0.5 });
        ResultsWriter.WriteJson(path, new { corr, traj, heads = HeadScore.RankAll(new[] { 0.1, 0.9, 0.5, 0.2 }, 2) });
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.Equal(0.5, root.GetProperty("corr").GetProperty("rho").GetDouble());
        Assert.Equal("NaN", root.GetProperty("corr").GetProperty("perSample")[1].GetString());
        Assert.Equal(0.775, root.GetProperty("traj").GetProperty("auc").GetDouble(), 12);
        Assert.Equal("L0H1", root.GetProperty("heads")[0].GetProperty("label").GetString());
        // Heads print, and are written, as their labels (a record's generated ToString would print its members) and read back as heads.
        Assert.Equal("L1H1, L0H1", string.Join(", ", traj.Heads));
        Assert.Equal("L0H1", root.GetProperty("heads")[0].GetProperty("head").GetString());
        Assert.Equal(new[] { "L1H1", "L0H1" }, root.GetProperty("traj").GetProperty("heads").EnumerateArray().Select(e => e.GetString()));
        var heads = JsonSerializer.Deserialize<HeadTarget[]>(root.GetProperty("traj").GetProperty("heads").GetRawText(), ResultsWriter.JsonOptions)!;
        Assert.Equal(traj.Heads, heads);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<HeadTarget>("\"mlp:3\"", ResultsWriter.JsonOptions));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<HeadTarget>("7", ResultsWriter.JsonOptions));
        var back = JsonSerializer.Deserialize<CorrelationResult>(root.GetProperty("corr").GetRawText(), ResultsWriter.JsonOptions)!;
        Assert.Equal(corr.PValue, back.PValue);
        Assert.True(double.IsNaN(back.PerSample[1]));
    }

    [Fact]
    public void CsvHasHeaderAndInvariantNumbers()
    {
        var path = Path.Combine(Fixtures.TempFolder(), "h.csv");
        ResultsWriter.WriteCsv(path, HeadScore.RankAll(new[] { 0.25, 1.5e-7 }, 2));
        var lines = File.ReadAllLines(path);
        Assert.Equal("Head,Score,Rank,Label", lines[0]);
        Assert.Equal("L0H0,0.25,1,L0H0", lines[1]);
        Assert.Equal("L0H1,1.5E-07,2,L0H1", lines[2]);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }
}

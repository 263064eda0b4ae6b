using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Lenses;

/// <summary>
/// One attention head — the library's single head identity: lens targets, scores, rankings, trajectories and study
/// results all name heads with it. Its result is the head's out-projected contribution, bias excluded. In JSON it is
/// its label (<c>"L3H1"</c>); inside tensors heads are laid out layer-major (<see cref="Index"/>).
/// </summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Head">Head index.</param>
[JsonConverter(typeof(HeadTargetJsonConverter))]
public sealed record HeadTarget(int Layer, int Head) : SubmoduleTarget
{
    /// <inheritdoc />
    public override int Layer { get; } = Layer;
    /// <inheritdoc />
    public override string Label => $"L{Layer}H{Head}";
    /// <inheritdoc />
    public override string HookName => HookNames.Result(Layer);

    /// <summary>Position in layer-major order (L0H0, L0H1, …), the layout of every per-head tensor and score array.</summary>
    /// <param name="numHeads">Heads per layer.</param>
    public int Index(int numHeads) => Layer * numHeads + Head;

    /// <summary>The head at layer-major position <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative index or fewer than one head per layer.</exception>
    public static HeadTarget FromIndex(int index, int numHeads)
    {
        if (numHeads < 1) throw new ArgumentOutOfRangeException(nameof(numHeads), numHeads, "need at least one head per layer.");
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), index, "head indices start at 0.");
        return new HeadTarget(index / numHeads, index % numHeads);
    }

    /// <inheritdoc />
    public override void Validate(VitArchitecture arch)
    {
        base.Validate(arch);
        if (Head < 0 || Head >= arch.NumHeads)
            throw new ArgumentOutOfRangeException(nameof(Head), $"target {Label}: head {Head} is outside 0..{arch.NumHeads - 1}.");
    }
}

/// <summary>Writes a head as its label and reads the label back, so results files name heads the way people do.</summary>
internal sealed class HeadTargetJsonConverter : JsonConverter<HeadTarget>
{
    public override HeadTarget Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        try
        {
            if (text is not null && LensTarget.Parse(text) is HeadTarget head) return head;
        }
        catch (FormatException) { /* reported below */ }
        throw new JsonException($"expected a head label such as \"L3H1\", found {(text is null ? reader.TokenType.ToString() : $"\"{text}\"")}.");
    }

    public override void Write(Utf8JsonWriter writer, HeadTarget value, JsonSerializerOptions options) => writer.WriteStringValue(value.Label);
}

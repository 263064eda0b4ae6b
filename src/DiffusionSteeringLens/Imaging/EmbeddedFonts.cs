using SkiaSharp;

namespace DiffusionSteeringLens.Imaging;

/// <summary>
/// Typefaces shipped inside this assembly, usable where Skia has no font manager (SkiaSharp's NoDependencies
/// native build on Linux). DejaVu Sans, Bitstream Vera licence (see THIRD-PARTY-NOTICES.md).
/// </summary>
internal static class EmbeddedFonts
{
    /// <summary>Manifest resource name of the embedded DejaVu Sans file.</summary>
    public const string DejaVuSansResource = "DiffusionSteeringLens.Fonts.DejaVuSans.ttf";

    private static readonly Lazy<SKTypeface> Sans = new(LoadDejaVuSans, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>DejaVu Sans, loaded once from the embedded resource and shared (do not dispose it).</summary>
    /// <exception cref="InvalidOperationException">The resource is missing or Skia cannot read it.</exception>
    public static SKTypeface DejaVuSans => Sans.Value;

    /// <summary>Opens the embedded DejaVu Sans TTF as a stream (the caller disposes it).</summary>
    /// <exception cref="InvalidOperationException">The resource is missing from the assembly.</exception>
    public static Stream OpenDejaVuSans() =>
        typeof(EmbeddedFonts).Assembly.GetManifestResourceStream(DejaVuSansResource)
        ?? throw new InvalidOperationException($"Embedded font resource '{DejaVuSansResource}' is missing from {typeof(EmbeddedFonts).Assembly.GetName().Name}.");

    private static SKTypeface LoadDejaVuSans()
    {
        // Copy into memory: Skia keeps reading the stream for the typeface's lifetime.
        var memory = new MemoryStream();
        using (var resource = OpenDejaVuSans()) resource.CopyTo(memory);
        memory.Position = 0;
        return SKTypeface.FromStream(memory)
            ?? throw new InvalidOperationException($"Skia could not load the embedded font '{DejaVuSansResource}'.");
    }
}

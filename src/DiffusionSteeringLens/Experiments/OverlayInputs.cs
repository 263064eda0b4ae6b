using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using TorchSharp;

namespace DiffusionSteeringLens.Experiments;

/// <summary>The three inputs of the overlay-removal study: the base image, the base with the overlay composed into a region, and the overlay alone.</summary>
public sealed class OverlayInputs : IDisposable
{
    private OverlayInputs(PreparedInput baseInput, PreparedInput overlaid, PreparedInput overlay)
    {
        Base = baseInput;
        Overlaid = overlaid;
        Overlay = overlay;
    }

    /// <summary>The clean base image.</summary>
    public PreparedInput Base { get; }

    /// <summary>The base with the overlay in the region.</summary>
    public PreparedInput Overlaid { get; }

    /// <summary>The overlay on its own (the reference overlay similarity is measured against).</summary>
    public PreparedInput Overlay { get; }

    /// <summary>
    /// Composes <paramref name="overlayRgb"/> (resized to the base size; default: <see cref="DemoImages.Stripes"/>) into the
    /// rectangle (fractions of the side: left, top, width, height) of <paramref name="baseRgb"/> and preprocesses all three.
    /// </summary>
    public static OverlayInputs Create(ClipImageProcessor processor, torch.Tensor baseRgb, torch.Tensor? overlayRgb = null,
        double left = 0.5, double top = 0.5, double width = 0.5, double height = 0.5)
    {
        ArgumentNullException.ThrowIfNull(processor);
        int h = (int)baseRgb.shape[0], w = (int)baseRgb.shape[1], side = Math.Max(h, w);
        using var scope = torch.NewDisposeScope();
        var baseF = ImageIO.ToFloatChw(baseRgb);
        torch.Tensor overlayF;
        if (overlayRgb is null)
            overlayF = ImageIO.ToFloatChw(DemoImages.Stripes(side)).narrow(1, 0, h).narrow(2, 0, w);
        else
            overlayF = torch.nn.functional.interpolate(ImageIO.ToFloatChw(overlayRgb).unsqueeze(0), new long[] { h, w },
                mode: torch.InterpolationMode.Bilinear, align_corners: false, antialias: true).squeeze(0).clamp(0, 1);
        var mask = DemoImages.RegionMask(side, left, top, width, height).narrow(0, 0, h).narrow(1, 0, w);
        var overlaid = OverlayStudy.Compose(baseF.unsqueeze(0), overlayF, mask).squeeze(0);
        var overlaidRgb = ImageIO.ToUint8Hwc(overlaid.contiguous());
        var overlayOnlyRgb = ImageIO.ToUint8Hwc(overlayF.contiguous());
        PreparedInput? b = null, o = null, r = null;
        try
        {
            b = PreparedInput.FromRgb(processor, new[] { baseRgb });
            o = PreparedInput.FromRgb(processor, new[] { overlaidRgb });
            r = PreparedInput.FromRgb(processor, new[] { overlayOnlyRgb });
            foreach (var t in new[] { b.Pixels, b.Pictures, o.Pixels, o.Pictures, r.Pixels, r.Pictures }) t.MoveToOuterDisposeScope();
            return new OverlayInputs(b, o, r);
        }
        catch
        {
            b?.Dispose(); o?.Dispose(); r?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Preprocesses three given RGB uint8 <c>[H, W, 3]</c> images (e.g. from a synthetic domain that draws its own
    /// overlay): the base, the base with the overlay, and the overlay alone.
    /// </summary>
    public static OverlayInputs FromImages(ClipImageProcessor processor, torch.Tensor baseRgb, torch.Tensor overlaidRgb, torch.Tensor overlayOnlyRgb)
    {
        ArgumentNullException.ThrowIfNull(processor);
        PreparedInput? b = null, o = null;
        try
        {
            b = PreparedInput.FromRgb(processor, new[] { baseRgb });
            o = PreparedInput.FromRgb(processor, new[] { overlaidRgb });
            return new OverlayInputs(b, o, PreparedInput.FromRgb(processor, new[] { overlayOnlyRgb }));
        }
        catch
        {
            b?.Dispose(); o?.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the three inputs.</summary>
    public void Dispose()
    {
        Base.Dispose();
        Overlaid.Dispose();
        Overlay.Dispose();
    }
}

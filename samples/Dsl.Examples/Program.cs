using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Examples;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;

// Focused examples for the API guide (docs/api-guide.md).
// Usage: dotnet run --project samples/Dsl.Examples -- [encoder-folder]
// Default encoder: the shipped demo model, samples/models/shapes32/encoder.
TorchNativeLoader.EnsureLoaded(); // opt in to the libtorch load fix (Debian 12 / Ubuntu 22.04) before the first tensor
TorchNativeLoader.EnableMemoryReuse(); // keep freed native memory for reuse: large decoder temporaries stop page-faulting
var encoderFolder = args.Length > 0 ? args[0] : Path.Combine(ShippedModels.Require(ShippedModels.Shapes32), "encoder");
using var encoder = ClipVisionModelWithProjection.FromPretrained(encoderFolder);
var arch = encoder.Architecture;
Console.WriteLine($"encoder: {encoderFolder} ({arch.NumLayers} layers × {arch.NumHeads} heads, output {arch.OutputDim})");

// Eight seeded random pictures stand in for a dataset; preprocess them like CLIPImageProcessor would.
using var generator = new torch.Generator(7);
using var pictures = torch.rand(new long[] { 8, 3, arch.ImageSize, arch.ImageSize }, generator: generator);
var similarity = new EncoderImageSimilarity(encoder);
// The encoder folder's own processor (shapes32 ships one), else CLIP's at the encoder's resolution.
var processorFile = Path.Combine(encoderFolder, "preprocessor_config.json");
var processor = File.Exists(processorFile)
    ? ClipImageProcessor.Load(processorFile)
    : new ClipImageProcessor(ClipImageProcessorConfig.ForResolution(arch.ImageSize));
using var pixels = processor.PreprocessFloat(pictures);                 // [8, 3, S, S] in [0, 1] → pixel_values

Console.WriteLine("1) custom lens experiment: DSL head ranking vs ablation importance");
foreach (var line in CustomLensExperiment.Run(encoder, pixels, new[]
         {
             SteeringFunction.Default, new ScaleSteering(8), CustomSteeringExamples.FixedNorm(2), CustomSteeringExamples.ByKind(4, 1),
         }))
    Console.WriteLine("   " + line);

Console.WriteLine("2) custom decoder adapter: retrieval over the input pictures themselves");
using var galleryEmbeddings = similarity.Embed(pictures);
using var retrieval = new RetrievalDecoder(pictures, galleryEmbeddings);
var renderer = new LensRenderer(retrieval);
var last = new LensTarget[] { new ResidualTarget(arch.NumLayers - 1, ResidualPosition.Post) };
int hits = 0;
foreach (var picture in renderer.Render(new DiffusionLens(encoder), pixels, last))
    using (picture)
        if (picture.Picture.eq(pictures[picture.ImageIndex]).all().item<bool>()) hits++;
Console.WriteLine($"   the final-layer Diffusion Lens read-out retrieves the input picture itself for {hits}/8 images");

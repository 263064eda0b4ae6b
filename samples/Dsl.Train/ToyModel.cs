using System.Text.Json;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Synthetic;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Train;

/// <summary>The shipped toy model's architecture, its config files (HF / diffusers layout) and its preprocessing.</summary>
internal static class ToyModel
{
    public static readonly double[] ClipMean = ShippedShapesModel.ImageMean.ToArray();
    public static readonly double[] ClipStd = ShippedShapesModel.ImageStd.ToArray();

    public static string EncoderDir(string root) => Path.Combine(root, "encoder");
    public static string UNetDir(string root) => Path.Combine(root, "decoder", "unet");
    public static string SchedulerDir(string root) => Path.Combine(root, "decoder", "scheduler");

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes every config file; returns the configs exactly as the library's readers parse them back.</summary>
    public static (ClipVisionConfig Encoder, UNet2DConditionConfig UNet, DdpmSchedulerConfig Scheduler) WriteConfigs(string root, int layers = 4, int heads = 4)
    {
        Directory.CreateDirectory(EncoderDir(root));
        Directory.CreateDirectory(UNetDir(root));
        Directory.CreateDirectory(SchedulerDir(root));
        Write(Path.Combine(EncoderDir(root), "config.json"), new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "CLIPVisionModelWithProjection" },
            ["model_type"] = "clip_vision_model",
            ["hidden_size"] = 96,
            ["intermediate_size"] = 384,
            ["projection_dim"] = 32,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_channels"] = 3,
            ["image_size"] = 32,
            ["patch_size"] = 4,
            ["hidden_act"] = "gelu",
            ["layer_norm_eps"] = 1e-5,
            ["attention_dropout"] = 0.0,
            ["initializer_range"] = 0.02,
            ["torch_dtype"] = "float32",
        });
        Write(Path.Combine(EncoderDir(root), "preprocessor_config.json"), new Dictionary<string, object?>
        {
            ["image_processor_type"] = "CLIPImageProcessor",
            ["do_resize"] = true,
            ["size"] = new Dictionary<string, int> { ["shortest_edge"] = 32 },
            ["resample"] = 3,
            ["do_center_crop"] = true,
            ["crop_size"] = new Dictionary<string, int> { ["height"] = 32, ["width"] = 32 },
            ["do_rescale"] = true,
            ["rescale_factor"] = 1.0 / 255.0,
            ["do_normalize"] = true,
            ["do_convert_rgb"] = true,
            ["image_mean"] = ClipMean,
            ["image_std"] = ClipStd,
        });
        Write(Path.Combine(UNetDir(root), "config.json"), new Dictionary<string, object?>
        {
            ["_class_name"] = "UNet2DConditionModel",
            ["_diffusers_version"] = "0.27.2",
            ["sample_size"] = 32,
            // 3 ε channels + 3 unused "variance" channels: Kandinsky's "first C channels are ε" split holds.
            ["in_channels"] = 3,
            ["out_channels"] = 6,
            ["center_input_sample"] = false,
            ["flip_sin_to_cos"] = true,
            ["freq_shift"] = 0,
            ["down_block_types"] = new[] { "ResnetDownsampleBlock2D", "ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D" },
            ["mid_block_type"] = "UNetMidBlock2DSimpleCrossAttn",
            ["up_block_types"] = new[] { "SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D", "ResnetUpsampleBlock2D" },
            ["only_cross_attention"] = false,
            ["block_out_channels"] = new[] { 32, 64, 64 },
            ["layers_per_block"] = 1,
            ["downsample_padding"] = 1,
            ["mid_block_scale_factor"] = 1,
            ["dropout"] = 0.0,
            ["act_fn"] = "silu",
            ["norm_num_groups"] = 8,
            ["norm_eps"] = 1e-5,
            ["cross_attention_dim"] = 64,
            ["encoder_hid_dim"] = 32,
            ["encoder_hid_dim_type"] = "image_proj",
            ["attention_head_dim"] = 16,
            ["addition_embed_type"] = "image",
            ["class_embed_type"] = null,
            ["resnet_time_scale_shift"] = "scale_shift",
            ["resnet_skip_time_act"] = false,
            ["resnet_out_scale_factor"] = 1.0,
            ["time_embedding_type"] = "positional",
            ["conv_in_kernel"] = 3,
            ["conv_out_kernel"] = 3,
        });
        Write(Path.Combine(SchedulerDir(root), "scheduler_config.json"), new Dictionary<string, object?>
        {
            ["_class_name"] = "DDPMScheduler",
            ["_diffusers_version"] = "0.27.2",
            ["num_train_timesteps"] = 1000,
            ["beta_start"] = 0.00085,
            ["beta_end"] = 0.012,
            ["beta_schedule"] = "linear",
            ["variance_type"] = "fixed_small",
            // Kandinsky ships clip_sample false; in pixel space clamping the predicted x0 matters a lot (toy-model notes §5).
            ["clip_sample"] = true,
            ["clip_sample_range"] = 1.0,
            ["prediction_type"] = "epsilon",
            ["timestep_spacing"] = "leading",
            ["steps_offset"] = 1,
            ["thresholding"] = false,
            ["sample_max_value"] = 1.0,
            ["rescale_betas_zero_snr"] = false,
        });
        return (ClipVisionConfig.Load(EncoderDir(root)), UNet2DConditionConfig.Load(UNetDir(root)), DdpmSchedulerConfig.Load(SchedulerDir(root)));
    }

    /// <summary>CLIP mean/std normalisation of [0, 1] images (the processor is an identity resize at 32 px).</summary>
    public static Tensor Normalize(Tensor images) => ShippedShapesModel.Preprocess(images);

    private static void Write(string path, Dictionary<string, object?> values) =>
        File.WriteAllText(path, JsonSerializer.Serialize(values, Indented) + "\n");
}

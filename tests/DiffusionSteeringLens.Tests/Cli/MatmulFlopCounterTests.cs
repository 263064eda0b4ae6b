using DiffusionSteeringLens.Cli.Commands;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Cli;

/// <summary>The FLOP count <c>dsl perf unet-step</c> reports, against a count by hand on a one-level UNet.</summary>
public sealed class MatmulFlopCounterTests
{
    [Fact]
    public void OneLevelUnetCountEqualsTheHandCount()
    {
        const int c = 32, inCh = 4, outCh = 8, d = 16, e = 24, b = 2, side = 8;
        const int n = 32; // context tokens of encoder_hid_proj: fixed at 32 (diffusers' ImageProjection), not a config value
        var path = Path.Combine(Fixtures.TempFolder(), "config.json");
        File.WriteAllText(path, $$"""
            { "act_fn": "silu", "addition_embed_type": "image", "attention_head_dim": 8, "block_out_channels": [{{c}}],
              "cross_attention_dim": {{d}}, "down_block_types": ["ResnetDownsampleBlock2D"], "encoder_hid_dim": {{e}},
              "encoder_hid_dim_type": "image_proj", "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": {{inCh}},
              "layers_per_block": 1, "mid_block_type": "UNetMidBlock2DSimpleCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 8,
              "out_channels": {{outCh}}, "resnet_time_scale_shift": "scale_shift",
              "up_block_types": ["ResnetUpsampleBlock2D"] }
            """);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Load(path));
        using var sample = torch.zeros(b, inCh, side, side);
        using var t = torch.tensor(500L);
        using var embeds = torch.zeros(b, e);
        double counted = MatmulFlopCounter.Gflop(unet, () => { using var y = unet.Predict(sample, t, embeds); });

        // By hand (2 FLOPs per multiply-add; rows = batch b, pixels p = side²; time embedding width T = 4c).
        double p = side * side, T = 4 * c;
        double time = 2 * b * (T * c + T * T);                         // time_embedding.linear_1, linear_2
        double image = 2 * b * (n * d * e + T * e);                    // encoder_hid_proj (n tokens of width d), add_embedding
        double convIn = 2 * b * p * c * inCh * 9, convOut = 2 * b * p * outCh * c * 9;
        double resnet = 2 * b * (2 * p * c * c * 9 + 2 * c * T);      // conv1, conv2 (3×3), time_emb_proj (scale and shift)
        double upResnet = 2 * b * (p * c * 2 * c * 9 + p * c * c * 9 + 2 * c * T + p * c * 2 * c); // skip concat: 2c in, 1×1 shortcut
        double attention = 2 * b * (4 * p * c * c + 2 * n * c * d)     // to_q, to_k, to_v, to_out; add_k_proj, add_v_proj
                         + 4 * b * p * (p + n) * c;                    // scores and mix over p self + n context keys
        double expected = time + image + convIn + resnet /* down */ + 2 * resnet + attention /* mid */ + 2 * upResnet + convOut;
        Assert.Equal(expected / 1e9, counted, 12);
    }
}

//! Build + serialize a 200-way fan-out (1 prep → 200 train → 1 aggregate) and print figures.
//!
//! `cargo bench --bench fanout`. Measured: running the `#[pipeline]` fn in the builder, writing
//! the REST bodies (components + PipelineJob) and serializing them to JSON text; and the same
//! with the CLI v2 YAML. Code asset ids are resolved once beforehand (snapshot hashing is
//! measured by the snapshot bench).

use std::time::{Duration, Instant};

use azureml_pipelines::prelude::*;
use azureml_pipelines::wire;

const STEPS: &str = "examples/model_selection/src";

#[step(
    command = "python split.py --raw ${{inputs.raw}} --test_percent 20 --train ${{outputs.output}} --test ${{outputs.output}}",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest"
)]
fn prep(raw: Data<UriFile>) -> Data<UriFolder>;

#[step(
    script = "fit.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    compute = "aml-compute"
)]
fn train(train: Data<UriFolder>, k: Param<i64>) -> Data<UriFolder>;

#[step(
    command = "python pick.py --best ${{outputs.output}}",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest"
)]
#[allow(clippy::too_many_arguments)]
fn aggregate(
    m0: Data<UriFolder>,
    m1: Data<UriFolder>,
    m2: Data<UriFolder>,
    m3: Data<UriFolder>,
    m4: Data<UriFolder>,
    m5: Data<UriFolder>,
    m6: Data<UriFolder>,
    m7: Data<UriFolder>,
    m8: Data<UriFolder>,
    m9: Data<UriFolder>,
    m10: Data<UriFolder>,
    m11: Data<UriFolder>,
    m12: Data<UriFolder>,
    m13: Data<UriFolder>,
    m14: Data<UriFolder>,
    m15: Data<UriFolder>,
    m16: Data<UriFolder>,
    m17: Data<UriFolder>,
    m18: Data<UriFolder>,
    m19: Data<UriFolder>,
    m20: Data<UriFolder>,
    m21: Data<UriFolder>,
    m22: Data<UriFolder>,
    m23: Data<UriFolder>,
    m24: Data<UriFolder>,
    m25: Data<UriFolder>,
    m26: Data<UriFolder>,
    m27: Data<UriFolder>,
    m28: Data<UriFolder>,
    m29: Data<UriFolder>,
    m30: Data<UriFolder>,
    m31: Data<UriFolder>,
    m32: Data<UriFolder>,
    m33: Data<UriFolder>,
    m34: Data<UriFolder>,
    m35: Data<UriFolder>,
    m36: Data<UriFolder>,
    m37: Data<UriFolder>,
    m38: Data<UriFolder>,
    m39: Data<UriFolder>,
    m40: Data<UriFolder>,
    m41: Data<UriFolder>,
    m42: Data<UriFolder>,
    m43: Data<UriFolder>,
    m44: Data<UriFolder>,
    m45: Data<UriFolder>,
    m46: Data<UriFolder>,
    m47: Data<UriFolder>,
    m48: Data<UriFolder>,
    m49: Data<UriFolder>,
    m50: Data<UriFolder>,
    m51: Data<UriFolder>,
    m52: Data<UriFolder>,
    m53: Data<UriFolder>,
    m54: Data<UriFolder>,
    m55: Data<UriFolder>,
    m56: Data<UriFolder>,
    m57: Data<UriFolder>,
    m58: Data<UriFolder>,
    m59: Data<UriFolder>,
    m60: Data<UriFolder>,
    m61: Data<UriFolder>,
    m62: Data<UriFolder>,
    m63: Data<UriFolder>,
    m64: Data<UriFolder>,
    m65: Data<UriFolder>,
    m66: Data<UriFolder>,
    m67: Data<UriFolder>,
    m68: Data<UriFolder>,
    m69: Data<UriFolder>,
    m70: Data<UriFolder>,
    m71: Data<UriFolder>,
    m72: Data<UriFolder>,
    m73: Data<UriFolder>,
    m74: Data<UriFolder>,
    m75: Data<UriFolder>,
    m76: Data<UriFolder>,
    m77: Data<UriFolder>,
    m78: Data<UriFolder>,
    m79: Data<UriFolder>,
    m80: Data<UriFolder>,
    m81: Data<UriFolder>,
    m82: Data<UriFolder>,
    m83: Data<UriFolder>,
    m84: Data<UriFolder>,
    m85: Data<UriFolder>,
    m86: Data<UriFolder>,
    m87: Data<UriFolder>,
    m88: Data<UriFolder>,
    m89: Data<UriFolder>,
    m90: Data<UriFolder>,
    m91: Data<UriFolder>,
    m92: Data<UriFolder>,
    m93: Data<UriFolder>,
    m94: Data<UriFolder>,
    m95: Data<UriFolder>,
    m96: Data<UriFolder>,
    m97: Data<UriFolder>,
    m98: Data<UriFolder>,
    m99: Data<UriFolder>,
    m100: Data<UriFolder>,
    m101: Data<UriFolder>,
    m102: Data<UriFolder>,
    m103: Data<UriFolder>,
    m104: Data<UriFolder>,
    m105: Data<UriFolder>,
    m106: Data<UriFolder>,
    m107: Data<UriFolder>,
    m108: Data<UriFolder>,
    m109: Data<UriFolder>,
    m110: Data<UriFolder>,
    m111: Data<UriFolder>,
    m112: Data<UriFolder>,
    m113: Data<UriFolder>,
    m114: Data<UriFolder>,
    m115: Data<UriFolder>,
    m116: Data<UriFolder>,
    m117: Data<UriFolder>,
    m118: Data<UriFolder>,
    m119: Data<UriFolder>,
    m120: Data<UriFolder>,
    m121: Data<UriFolder>,
    m122: Data<UriFolder>,
    m123: Data<UriFolder>,
    m124: Data<UriFolder>,
    m125: Data<UriFolder>,
    m126: Data<UriFolder>,
    m127: Data<UriFolder>,
    m128: Data<UriFolder>,
    m129: Data<UriFolder>,
    m130: Data<UriFolder>,
    m131: Data<UriFolder>,
    m132: Data<UriFolder>,
    m133: Data<UriFolder>,
    m134: Data<UriFolder>,
    m135: Data<UriFolder>,
    m136: Data<UriFolder>,
    m137: Data<UriFolder>,
    m138: Data<UriFolder>,
    m139: Data<UriFolder>,
    m140: Data<UriFolder>,
    m141: Data<UriFolder>,
    m142: Data<UriFolder>,
    m143: Data<UriFolder>,
    m144: Data<UriFolder>,
    m145: Data<UriFolder>,
    m146: Data<UriFolder>,
    m147: Data<UriFolder>,
    m148: Data<UriFolder>,
    m149: Data<UriFolder>,
    m150: Data<UriFolder>,
    m151: Data<UriFolder>,
    m152: Data<UriFolder>,
    m153: Data<UriFolder>,
    m154: Data<UriFolder>,
    m155: Data<UriFolder>,
    m156: Data<UriFolder>,
    m157: Data<UriFolder>,
    m158: Data<UriFolder>,
    m159: Data<UriFolder>,
    m160: Data<UriFolder>,
    m161: Data<UriFolder>,
    m162: Data<UriFolder>,
    m163: Data<UriFolder>,
    m164: Data<UriFolder>,
    m165: Data<UriFolder>,
    m166: Data<UriFolder>,
    m167: Data<UriFolder>,
    m168: Data<UriFolder>,
    m169: Data<UriFolder>,
    m170: Data<UriFolder>,
    m171: Data<UriFolder>,
    m172: Data<UriFolder>,
    m173: Data<UriFolder>,
    m174: Data<UriFolder>,
    m175: Data<UriFolder>,
    m176: Data<UriFolder>,
    m177: Data<UriFolder>,
    m178: Data<UriFolder>,
    m179: Data<UriFolder>,
    m180: Data<UriFolder>,
    m181: Data<UriFolder>,
    m182: Data<UriFolder>,
    m183: Data<UriFolder>,
    m184: Data<UriFolder>,
    m185: Data<UriFolder>,
    m186: Data<UriFolder>,
    m187: Data<UriFolder>,
    m188: Data<UriFolder>,
    m189: Data<UriFolder>,
    m190: Data<UriFolder>,
    m191: Data<UriFolder>,
    m192: Data<UriFolder>,
    m193: Data<UriFolder>,
    m194: Data<UriFolder>,
    m195: Data<UriFolder>,
    m196: Data<UriFolder>,
    m197: Data<UriFolder>,
    m198: Data<UriFolder>,
    m199: Data<UriFolder>,
) -> Data<UriFolder>;

#[pipeline(experiment = "fanout", default_compute = "aml-compute")]
fn fanout(
    #[default("azureml://datastores/workspaceblobstore/paths/iris.csv")] raw: Data<UriFile>,
) -> Data<UriFolder> {
    let prepped = prep(raw);
    let m: Vec<Data<UriFolder>> = (0..200).map(|k| train(prepped, k as i64)).collect();
    aggregate(
        m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11], m[12], m[13],
        m[14], m[15], m[16], m[17], m[18], m[19], m[20], m[21], m[22], m[23], m[24], m[25], m[26],
        m[27], m[28], m[29], m[30], m[31], m[32], m[33], m[34], m[35], m[36], m[37], m[38], m[39],
        m[40], m[41], m[42], m[43], m[44], m[45], m[46], m[47], m[48], m[49], m[50], m[51], m[52],
        m[53], m[54], m[55], m[56], m[57], m[58], m[59], m[60], m[61], m[62], m[63], m[64], m[65],
        m[66], m[67], m[68], m[69], m[70], m[71], m[72], m[73], m[74], m[75], m[76], m[77], m[78],
        m[79], m[80], m[81], m[82], m[83], m[84], m[85], m[86], m[87], m[88], m[89], m[90], m[91],
        m[92], m[93], m[94], m[95], m[96], m[97], m[98], m[99], m[100], m[101], m[102], m[103],
        m[104], m[105], m[106], m[107], m[108], m[109], m[110], m[111], m[112], m[113], m[114],
        m[115], m[116], m[117], m[118], m[119], m[120], m[121], m[122], m[123], m[124], m[125],
        m[126], m[127], m[128], m[129], m[130], m[131], m[132], m[133], m[134], m[135], m[136],
        m[137], m[138], m[139], m[140], m[141], m[142], m[143], m[144], m[145], m[146], m[147],
        m[148], m[149], m[150], m[151], m[152], m[153], m[154], m[155], m[156], m[157], m[158],
        m[159], m[160], m[161], m[162], m[163], m[164], m[165], m[166], m[167], m[168], m[169],
        m[170], m[171], m[172], m[173], m[174], m[175], m[176], m[177], m[178], m[179], m[180],
        m[181], m[182], m[183], m[184], m[185], m[186], m[187], m[188], m[189], m[190], m[191],
        m[192], m[193], m[194], m[195], m[196], m[197], m[198], m[199],
    )
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    println!(
        "{name:<44} median {:>8.3} ms   min {:>8.3} ms   p90 {:>8.3} ms   ({} runs)",
        median.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        samples.len()
    );
}

fn main() {
    let runs = 200;
    let pipeline = azureml_pipelines::build(fanout).expect("fan-out builds");
    let values: Vec<_> = pipeline.inputs.iter().map(|i| i.default.clone()).collect();
    let mut ctx = wire::WireContext::default();
    let code = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(STEPS);
    ctx.code.insert(
        code,
        ctx.workspace
            .code_id_for_hash("0123456789abcdef0123456789abcdef"),
    );
    let yaml_ctx = wire::YamlContext {
        base_dir: std::env::current_dir().unwrap(),
        force_rerun: false,
    };

    println!(
        "fan-out: {} nodes, {} edges",
        pipeline.nodes.len(),
        pipeline.edges().len()
    );
    let mut build = Vec::new();
    let mut json = Vec::new();
    let mut yaml = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let p = azureml_pipelines::build(fanout).unwrap();
        build.push(t.elapsed());

        let t = Instant::now();
        let p2 = azureml_pipelines::build(fanout).unwrap();
        let bodies = wire::rest_bodies(&p2, &values, &ctx).unwrap();
        let mut text = String::new();
        for c in &bodies.components {
            text.push_str(&serde_json::to_string(&c.body).unwrap());
        }
        text.push_str(&serde_json::to_string(&bodies.job).unwrap());
        json.push(t.elapsed());
        bytes = text.len();

        let t = Instant::now();
        let p3 = azureml_pipelines::build(fanout).unwrap();
        let y = wire::to_yaml(&p3, &values, &yaml_ctx).unwrap();
        yaml.push(t.elapsed());
        std::hint::black_box((p, y));
    }
    stats("build (run the #[pipeline] fn)", build);
    stats("build + REST bodies + JSON text (bar: 5 ms)", json);
    stats("build + CLI v2 YAML text", yaml);
    println!("JSON bytes per submission: {bytes}");
}

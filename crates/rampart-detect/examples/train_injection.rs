//! Trains the injection classifier and writes its model file.
//!
//! ```text
//! cargo run --release -p rampart-detect --example train_injection -- \
//!     corpora/injection/train.jsonl crates/rampart-detect/src/injection/model/injection.bin
//! ```
//!
//! Logistic regression on [`featurise`]'s hashed features, trained with Adagrad and L2 over a
//! deterministic shuffle, then calibrated with Platt scaling on a held-out slice of the training file
//! (whole groups are held out, so calibration sees templates the weights never saw).

use std::io::{BufRead, BufReader};

use rampart_detect::injection::classifier::{ModelParams, featurise, sigmoid};

const BITS: u8 = 18;
const EPOCHS: usize = 12;
const LEARNING_RATE: f32 = 0.4;
const L2: f32 = 2e-6;
const HOLDOUT_PERCENT: u64 = 12;

struct Example {
    x: Vec<(u32, f32)>,
    y: f32,
    weight: f32,
}

type Result<T> = std::result::Result<T, String>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: train_injection TRAIN.jsonl MODEL.bin".into());
    };
    let rows = read_rows(input)?;
    let mut fit = Vec::new();
    let mut hold = Vec::new();
    let (mut pos, mut neg) = (0usize, 0usize);
    for (text, label, kind, group) in &rows {
        let mut x = Vec::new();
        featurise(text, BITS, &mut x);
        let y = if *label { 1.0 } else { 0.0 };
        // Benign text that looks like an attack is what users notice when it is blocked.
        let weight = if kind == "benign-hard" { 2.0 } else { 1.0 };
        let ex = Example { x, y, weight };
        if fnv(group) % 100 < HOLDOUT_PERCENT {
            hold.push(ex);
        } else {
            if *label {
                pos += 1;
            } else {
                neg += 1;
            }
            fit.push(ex);
        }
    }
    if pos == 0 || neg == 0 {
        return Err(format!(
            "training data needs both classes (got {pos} attacks, {neg} benign)"
        ));
    }
    // Balance the classes.
    let n = (pos + neg) as f32;
    for ex in &mut fit {
        ex.weight *= if ex.y > 0.5 {
            n / (2.0 * pos as f32)
        } else {
            n / (2.0 * neg as f32)
        };
    }

    let size = 1usize << BITS;
    let mut w = vec![0f32; size];
    let mut g2 = vec![1e-8f32; size];
    let mut bias = 0f32;
    let mut bias_g2 = 1e-8f32;
    let mut order: Vec<usize> = (0..fit.len()).collect();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for epoch in 0..EPOCHS {
        shuffle(&mut order, &mut rng);
        let mut loss = 0f64;
        for &i in &order {
            let ex = &fit[i];
            let z = bias + ex.x.iter().map(|&(k, v)| w[k as usize] * v).sum::<f32>();
            let p = sigmoid(z);
            loss -= f64::from(ex.weight)
                * if ex.y > 0.5 {
                    f64::from(p.max(1e-7)).ln()
                } else {
                    f64::from((1.0 - p).max(1e-7)).ln()
                };
            let err = (p - ex.y) * ex.weight;
            for &(k, v) in &ex.x {
                let k = k as usize;
                let grad = err * v + L2 * w[k];
                g2[k] += grad * grad;
                w[k] -= LEARNING_RATE * grad / g2[k].sqrt();
            }
            bias_g2 += err * err;
            bias -= LEARNING_RATE * err / bias_g2.sqrt();
        }
        eprintln!(
            "epoch {epoch:2}: weighted log-loss {:.4}",
            loss / fit.len() as f64
        );
    }

    let margins: Vec<(f32, f32)> = hold
        .iter()
        .map(|ex| {
            (
                bias + ex.x.iter().map(|&(k, v)| w[k as usize] * v).sum::<f32>(),
                ex.y,
            )
        })
        .collect();
    let (platt_a, platt_b) = platt(&margins);
    let correct = margins
        .iter()
        .filter(|(z, y)| (sigmoid(platt_a * z + platt_b) > 0.5) == (*y > 0.5))
        .count();
    eprintln!(
        "held out {} examples: accuracy {:.4}; Platt a={platt_a:.4} b={platt_b:.4}",
        hold.len(),
        correct as f32 / hold.len().max(1) as f32
    );

    let params = ModelParams {
        bits: BITS,
        weights: w,
        bias,
        platt_a,
        platt_b,
    };
    let bytes = params.encode();
    std::fs::write(output, &bytes).map_err(|e| format!("writing {output}: {e}"))?;
    eprintln!(
        "wrote {output}: {} bytes from {} training rows",
        bytes.len(),
        rows.len()
    );
    Ok(())
}

/// Reads `{"text", "label", "kind", "group"}` lines.
fn read_rows(path: &str) -> Result<Vec<(String, bool, String, String)>> {
    let file = std::fs::File::open(path).map_err(|e| format!("opening {path}: {e}"))?;
    let mut rows = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
        let text = v["text"]
            .as_str()
            .ok_or_else(|| format!("{path}:{}: no text", i + 1))?
            .to_owned();
        let label = v["label"]
            .as_u64()
            .ok_or_else(|| format!("{path}:{}: no label", i + 1))?
            == 1;
        let kind = v["kind"].as_str().unwrap_or("").to_owned();
        let group = v["group"]
            .as_str()
            .map_or_else(|| text.clone(), str::to_owned);
        rows.push((text, label, kind, group));
    }
    Ok(rows)
}

/// Platt scaling: fits sigmoid(a·z + b) to held-out margins by Newton's method on the log-loss, with
/// Platt's smoothed targets so a perfectly separated hold-out does not drive `a` to infinity.
fn platt(margins: &[(f32, f32)]) -> (f32, f32) {
    let pos = margins.iter().filter(|(_, y)| *y > 0.5).count() as f64;
    let neg = margins.len() as f64 - pos;
    let hi = (pos + 1.0) / (pos + 2.0);
    let lo = 1.0 / (neg + 2.0);
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for &(z, y) in margins {
            let z = f64::from(z);
            let t = if y > 0.5 { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let d = p - t;
            let s = p * (1.0 - p);
            ga += d * z;
            gb += d;
            haa += s * z * z;
            hab += s * z;
            hbb += s;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    (a as f32, b as f32)
}

fn shuffle(v: &mut [usize], state: &mut u64) {
    for i in (1..v.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

//! Model-scan throughput on generated files (written once to a temporary folder, outside the timing):
//!
//! - `torch_zip_200mb`: a 200 MB torch zip checkpoint (64 stored tensor storages of ~3 MiB and the
//!   `archive/data.pkl` torch writes). Only the central directory and the pickle are read, so this shows
//!   the cost of a checkpoint, not of its size; `read_whole_file` is the baseline of reading it once.
//! - `pickle_many_ops`: a 32 MB protocol 4 pickle of a dict with a million short strings (VM-bound:
//!   every opcode interpreted).
//! - `pickle_big_arrays`: a 256 MB protocol 4 pickle of numpy-style arrays inline (BINBYTES8), which
//!   the VM skips by seeking.
//!
//! Throughput is reported in bytes of the file per second.
//!
//! Run: `cargo bench -p rampart-supply --bench scan`

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_supply::{ScanOptions, Verdict, scan_path};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// A protocol 2 `OrderedDict` state_dict pickle in the shape torch writes it: `_rebuild_tensor_v2` on
/// persistent ids `('storage', torch.FloatStorage, key, 'cpu', numel)`.
fn state_dict_pickle(tensors: &[(String, usize)]) -> Vec<u8> {
    let mut p = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(".to_vec();
    let s = |p: &mut Vec<u8>, text: &str| {
        p.push(b'X');
        p.extend_from_slice(&(text.len() as u32).to_le_bytes());
        p.extend_from_slice(text.as_bytes());
    };
    for (i, (name, numel)) in tensors.iter().enumerate() {
        s(&mut p, name);
        if i == 0 {
            // Memoise the two globals once, as the pickler does, then fetch them with BINGET.
            p.extend_from_slice(
                b"ctorch._utils\n_rebuild_tensor_v2\nq\x020ctorch\nFloatStorage\nq\x030",
            );
        }
        p.extend_from_slice(b"h\x02((X\x07\x00\x00\x00storageh\x03");
        s(&mut p, &i.to_string());
        s(&mut p, "cpu");
        p.push(b'J');
        p.extend_from_slice(&(*numel as u32).to_le_bytes());
        p.extend_from_slice(b"tQK\x00J");
        p.extend_from_slice(&(*numel as u32).to_le_bytes());
        p.extend_from_slice(b"\x85K\x01\x85\x89h\x00)RtR");
    }
    p.extend_from_slice(b"u}X\t\x00\x00\x00_metadatah\x00)Rsb.");
    p
}

fn write_torch_zip(path: &Path) -> u64 {
    const TENSORS: usize = 64;
    const NUMEL: usize = 200_000_000 / TENSORS / 4;
    let names: Vec<(String, usize)> = (0..TENSORS)
        .map(|i| (format!("layers.{i}.weight"), NUMEL))
        .collect();
    let file = fs::File::create(path).expect("bench file");
    let mut z = ZipWriter::new(file);
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(false);
    z.start_file("archive/data.pkl", stored).expect("zip");
    z.write_all(&state_dict_pickle(&names)).expect("zip");
    z.start_file("archive/byteorder", stored).expect("zip");
    z.write_all(b"little").expect("zip");
    let chunk: Vec<u8> = (0..NUMEL * 4).map(|i| (i * 31 % 251) as u8).collect();
    for i in 0..TENSORS {
        z.start_file(format!("archive/data/{i}"), stored)
            .expect("zip");
        z.write_all(&chunk).expect("zip");
    }
    z.start_file("archive/version", stored).expect("zip");
    z.write_all(b"3\n").expect("zip");
    z.finish().expect("zip");
    fs::metadata(path).expect("bench file").len()
}

fn write_many_ops_pickle(path: &Path) -> u64 {
    let mut p = b"\x80\x04}\x94(".to_vec();
    for i in 0..1_000_000u32 {
        let key = format!("token{i:07}");
        p.push(0x8c);
        p.push(key.len() as u8);
        p.extend_from_slice(key.as_bytes());
        p.push(0x94);
        p.push(b'J');
        p.extend_from_slice(&i.to_le_bytes());
        if i % 1000 == 999 {
            p.extend_from_slice(b"u(");
        }
    }
    p.extend_from_slice(b"u.");
    fs::write(path, &p).expect("bench file");
    p.len() as u64
}

fn write_big_arrays_pickle(path: &Path) -> u64 {
    let mut f = std::io::BufWriter::new(fs::File::create(path).expect("bench file"));
    f.write_all(b"\x80\x04]\x94(").expect("write");
    let block = vec![0x3fu8; 16 << 20];
    for _ in 0..16 {
        f.write_all(b"\x8c\x15numpy.core.multiarray\x94\x8c\x0c_reconstruct\x94\x93\x94")
            .expect("write");
        f.write_all(b"\x8e").expect("write");
        f.write_all(&(block.len() as u64).to_le_bytes())
            .expect("write");
        f.write_all(&block).expect("write");
        f.write_all(b"\x85R").expect("write");
    }
    f.write_all(b"e.").expect("write");
    f.flush().expect("write");
    drop(f);
    fs::metadata(path).expect("bench file").len()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = ScanOptions::default();
    let mut g = c.benchmark_group("model_scan");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));

    let zip_path = dir.path().join("pytorch_model.bin");
    let len = write_torch_zip(&zip_path);
    let r = scan_path(&zip_path, &opts);
    assert_eq!(r.verdict, Verdict::Safe, "{:?}", r.findings);
    g.throughput(Throughput::Bytes(len));
    g.bench_function("torch_zip_200mb", |b| {
        b.iter(|| scan_path(&zip_path, &opts))
    });
    g.bench_function("read_whole_file", |b| {
        b.iter(|| fs::read(&zip_path).expect("read").len())
    });

    let ops_path = dir.path().join("vocab.pkl");
    let len = write_many_ops_pickle(&ops_path);
    let r = scan_path(&ops_path, &opts);
    assert_eq!(r.verdict, Verdict::Safe, "{:?}", r.findings);
    g.throughput(Throughput::Bytes(len));
    g.bench_function("pickle_many_ops", |b| {
        b.iter(|| scan_path(&ops_path, &opts))
    });

    let arrays_path = dir.path().join("arrays.pkl");
    let len = write_big_arrays_pickle(&arrays_path);
    let r = scan_path(&arrays_path, &opts);
    assert_eq!(r.verdict, Verdict::Safe, "{:?}", r.findings);
    g.throughput(Throughput::Bytes(len));
    g.bench_function("pickle_big_arrays", |b| {
        b.iter(|| scan_path(&arrays_path, &opts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

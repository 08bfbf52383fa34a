use std::sync::Arc;

use super::store::local;
use super::transfer::{delete_prefix, download_all, list, upload_all, Download, Upload};
use super::{Options, Progress};
use crate::runtime::{io, Cancel};

#[test]
fn local_round_trip_with_multipart_and_ranged_reads() {
    let dir = std::env::temp_dir().join(format!("oxide-artifacts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (src, root, dst) = (dir.join("src"), dir.join("root"), dir.join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    let big: Vec<u8> = (0..3_000_003u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(src.join("big.bin"), &big).unwrap();
    std::fs::write(src.join("small.txt"), b"hello").unwrap();
    let store = local(root.to_str().unwrap()).unwrap();
    let opts = Options {
        concurrency: 3,
        file_concurrency: 5,
        part_size: 1 << 20,
        multipart_threshold: 1 << 20,
    };
    let (progress, cancel) = (Progress::default(), Cancel::default());
    io().block_on(async {
        let files = ["big.bin", "small.txt"]
            .iter()
            .map(|n| Upload {
                local: src.join(n),
                key: format!("run/artifacts/{n}"),
                content_type: None,
                content_encoding: None,
            })
            .collect();
        upload_all(&store, files, &opts, &progress, &cancel)
            .await
            .unwrap();
        let (files, dirs) = list(&store, "run/artifacts").await.unwrap();
        assert!(dirs.is_empty());
        assert_eq!(files.len(), 2);
        let downloads = files
            .iter()
            .map(|(k, size)| Download {
                key: k.clone(),
                local: dst.join(k.rsplit('/').next().unwrap()),
                size: Some(*size),
                etag: None,
            })
            .collect();
        download_all(&store, downloads, &opts, &progress, &cancel)
            .await
            .unwrap();
        assert_eq!(delete_prefix(&store, "run").await.unwrap(), 2);
    });
    assert_eq!(std::fs::read(dst.join("big.bin")).unwrap(), big);
    assert_eq!(std::fs::read(dst.join("small.txt")).unwrap(), b"hello");
    assert_eq!(
        progress.bytes.load(std::sync::atomic::Ordering::Relaxed),
        2 * (big.len() as u64 + 5)
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dst)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
    let _ = Arc::strong_count(&store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn downloads_are_checked_against_single_part_etags() {
    use super::transfer::etag_md5;
    assert_eq!(etag_md5("\"-not-a-checksum\""), None);
    assert_eq!(etag_md5("\"0cc175b9c0f1b6a831c399e269772661-3\""), None);
    // MD5("a")
    let md5_a = "\"0cc175b9c0f1b6a831c399e269772661\"";
    assert!(etag_md5(md5_a).is_some());
    let dir = std::env::temp_dir().join(format!("oxide-etag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("k")).unwrap();
    std::fs::write(root.join("k/a.txt"), b"a").unwrap();
    let store = local(root.to_str().unwrap()).unwrap();
    let (opts, progress, cancel) = (Options::default(), Progress::default(), Cancel::default());
    let fetch = |etag: &str, name: &str| {
        io().block_on(download_all(
            &store,
            vec![Download {
                key: "k/a.txt".into(),
                local: dir.join(name),
                size: Some(1),
                etag: Some(etag.into()),
            }],
            &opts,
            &progress,
            &cancel,
        ))
    };
    fetch(md5_a, "good.txt").unwrap();
    assert_eq!(std::fs::read(dir.join("good.txt")).unwrap(), b"a");
    let err = fetch("\"92eb5ffee6ae2fec3ad71c777531578f\"", "bad.txt").unwrap_err();
    assert!(err.to_string().contains("MD5"), "{err}");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("bad") || n.contains("partial")),
        "{names:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn local_copies_keep_bytes_times_and_modes_and_leave_nothing_when_cancelled() {
    use super::local_copy::{copy_all, Copy};
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, SystemTime};

    let dir = std::env::temp_dir().join(format!("oxide-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let data: Vec<u8> = (0..2_500_001u32).map(|i| (i % 253) as u8).collect();
    let source = dir.join("src/a.bin");
    std::fs::write(&source, &data).unwrap();
    let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&source)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();
    let copy = |to: &str| Copy {
        source: source.clone(),
        destination: dir.join(to),
    };
    let progress = Arc::new(Progress::default());
    let cancel = Arc::new(Cancel::default());
    io().block_on(copy_all(
        vec![copy("out/a.bin"), copy("out/deep/b.bin")],
        4,
        &progress,
        &cancel,
    ))
    .unwrap();
    for name in ["out/a.bin", "out/deep/b.bin"] {
        let path = dir.join(name);
        assert_eq!(std::fs::read(&path).unwrap(), data);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.modified().unwrap(), modified);
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    }
    assert_eq!(progress.files.load(std::sync::atomic::Ordering::Relaxed), 2);

    cancel.cancel();
    let err = io()
        .block_on(copy_all(
            vec![copy("cancelled/c.bin")],
            4,
            &progress,
            &cancel,
        ))
        .unwrap_err();
    assert!(matches!(err, crate::error::CoreError::Cancelled), "{err}");
    assert!(!dir.join("cancelled").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Core tests on a real SQLite file holding MLflow 3.17's schema (dumped from a database
//! MLflow itself created). Parity with stock MLflow is tested from Python (`tests/parity`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;
use crate::error::CoreError;

const SCHEMA: &str = include_str!("testdata/mlflow_3_17_schema.sql");

fn backend() -> SqliteBackend {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "oxide-core-{}-{}.db",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_file(&path);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    drop(conn);
    SqliteBackend::open(SqliteOptions {
        path: path.to_string_lossy().into_owned(),
        synchronous: Synchronous::Normal,
        busy_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn experiment(b: &SqliteBackend, name: &str) -> i64 {
    b.create_experiment(&NewExperiment {
        name: name.into(),
        tags: vec![("team".into(), "core".into())],
        location_template: format!("/art/{EXPERIMENT_ID_SENTINEL}"),
    })
    .unwrap()
}

fn run(b: &SqliteBackend, exp: i64, id: &str, start: i64) -> String {
    b.create_run(&NewRun {
        run_id: id.into(),
        experiment_id: exp,
        user_id: Some("u".into()),
        start_time: Some(start),
        run_name: format!("name-{id}"),
        tags: vec![("mlflow.runName".into(), Some(format!("name-{id}")))],
        artifact_uri: format!("/art/{exp}/{id}/artifacts"),
    })
    .unwrap();
    id.into()
}

fn m(key: &str, value: f64, timestamp: i64, step: i64) -> MetricIn {
    MetricIn {
        key: key.into(),
        value,
        timestamp,
        step,
    }
}

fn metrics_only(metrics: Vec<MetricIn>) -> Batch {
    Batch {
        metrics,
        ..Batch::default()
    }
}

#[test]
fn latest_metric_is_highest_step_then_timestamp_then_value() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    let batch = metrics_only(vec![
        m("x", 1.0, 10, 5),
        m("x", 2.0, 5, 7),
        m("x", 3.0, 4, 7),
    ]);
    b.log_batch(&r, &batch, None).unwrap();
    b.log_batch(&r, &metrics_only(vec![m("x", 9.0, 99, 6)]), None)
        .unwrap();
    let got = b.get_run(&r, None).unwrap();
    assert_eq!(got.metrics, vec![("x".to_string(), 2.0, Some(5), 7)]);
    let history = b
        .metric_history(
            &HistoryQuery {
                run_id: r,
                key: "x".into(),
                limit: None,
                offset: 0,
            },
            None,
        )
        .unwrap();
    let timestamps: Vec<i64> = history.iter().map(|p| p.1).collect();
    assert_eq!(timestamps, vec![4, 5, 10, 99]);
}

#[test]
fn nan_and_infinities_are_stored_as_mlflow_does() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    let batch = metrics_only(vec![
        m("nan", f64::NAN, 1, 0),
        m("pinf", f64::INFINITY, 1, 0),
        m("ninf", f64::NEG_INFINITY, 1, 0),
    ]);
    b.log_batch(&r, &batch, None).unwrap();
    let got = b.get_run(&r, None).unwrap();
    let value = |k: &str| got.metrics.iter().find(|x| x.0 == k).unwrap().1;
    assert!(value("nan").is_nan());
    assert_eq!(value("pinf"), f64::MAX);
    assert_eq!(value("ninf"), f64::MIN);
}

#[test]
fn params_are_immutable_and_duplicates_are_deduplicated() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    let params = |v: &str| Batch {
        params: vec![("lr".into(), v.into())],
        ..Batch::default()
    };
    b.log_batch(&r, &params("0.1"), None).unwrap();
    b.log_batch(&r, &params("0.1"), None).unwrap();
    let err = b.log_batch(&r, &params("0.2"), None).unwrap_err();
    assert!(matches!(err, CoreError::InvalidParameter(_)), "{err:?}");
    let twice = metrics_only(vec![m("x", 1.0, 1, 1), m("x", 1.0, 1, 1)]);
    b.log_batch(&r, &twice, None).unwrap();
    b.log_batch(&r, &twice, None).unwrap();
    let history = b
        .metric_history(
            &HistoryQuery {
                run_id: r,
                key: "x".into(),
                limit: None,
                offset: 0,
            },
            None,
        )
        .unwrap();
    assert_eq!(history.len(), 1);
}

#[test]
fn run_rules_missing_deleted_rename_and_tags() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    let missing = b.log_batch("nope", &metrics_only(vec![m("x", 1.0, 1, 1)]), None);
    assert!(matches!(missing, Err(CoreError::NotFound(_))));
    let rename = Batch {
        tags: vec![("mlflow.runName".into(), "renamed".into())],
        ..Batch::default()
    };
    b.log_batch(&r, &rename, None).unwrap();
    assert_eq!(
        b.get_run(&r, None).unwrap().info.name.as_deref(),
        Some("renamed")
    );
    assert!(matches!(
        b.delete_tag(&r, "absent", None),
        Err(CoreError::NotFound(_))
    ));
    b.delete_tag(&r, "mlflow.runName", None).unwrap();
    let info = b
        .update_run_info(
            &RunUpdate {
                run_id: r.clone(),
                status: Some("FINISHED".into()),
                end_time: Some(7),
                run_name: None,
            },
            None,
        )
        .unwrap();
    assert_eq!(
        (info.status.as_deref(), info.end_time),
        (Some("FINISHED"), Some(7))
    );
    b.write(|tx| {
        tx.execute(
            "UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_uuid = 'r1'",
            [],
        )?;
        Ok(())
    })
    .unwrap();
    let deleted = b.log_batch(&r, &metrics_only(vec![m("x", 1.0, 1, 1)]), None);
    assert!(matches!(deleted, Err(CoreError::InvalidParameter(_))));
}

#[test]
fn invalid_input_is_declined_not_stored() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    for key in ["../x", "/abs", "a//b", ""] {
        let res = b.log_batch(&r, &metrics_only(vec![m(key, 1.0, 1, 1)]), None);
        assert!(matches!(res, Err(CoreError::Declined(_))), "{key}");
    }
    let too_many = metrics_only((0..1001).map(|i| m("x", 1.0, i, i)).collect());
    assert!(matches!(
        b.log_batch(&r, &too_many, None),
        Err(CoreError::Declined(_))
    ));
    assert!(b.get_run(&r, None).unwrap().metrics.is_empty());
}

#[test]
fn search_orders_nan_and_missing_last_and_filters_nan_only_with_not_equal() {
    let b = backend();
    let exp = experiment(&b, "e");
    for (id, value) in [
        ("a", Some(1.0)),
        ("b", Some(f64::NAN)),
        ("c", None),
        ("d", Some(3.0)),
    ] {
        run(&b, exp, id, 1);
        if let Some(v) = value {
            b.log_batch(id, &metrics_only(vec![m("acc", v, 1, 1)]), None)
                .unwrap();
        }
    }
    let query = |filters: Vec<Filter>, ascending: bool| RunQuery {
        experiment_ids: vec![exp],
        filters,
        order_by: vec![OrderBy {
            kind: "metric".into(),
            key: "acc".into(),
            ascending,
        }],
        stages: vec!["active".into()],
        limit: Some(10),
        offset: 0,
    };
    let ids = |rows: Vec<RunRow>| rows.into_iter().map(|r| r.info.run_id).collect::<Vec<_>>();
    assert_eq!(
        ids(b.search_runs(&query(vec![], false), None).unwrap()),
        ["d", "a", "b", "c"]
    );
    assert_eq!(
        ids(b.search_runs(&query(vec![], true), None).unwrap()),
        ["a", "d", "b", "c"]
    );
    let ne = Filter {
        kind: "metric".into(),
        key: "acc".into(),
        comparator: "!=".into(),
        value: FilterValue::Real(1.0),
    };
    assert_eq!(
        ids(b.search_runs(&query(vec![ne], true), None).unwrap()),
        ["d", "b"]
    );
}

#[test]
fn sampling_keeps_first_and_last_points() {
    let b = backend();
    let exp = experiment(&b, "e");
    let r = run(&b, exp, "r1", 1);
    let batch = metrics_only((0..100).map(|i| m("x", i as f64, i, i)).collect());
    b.log_batch(&r, &batch, None).unwrap();
    let sample = |max_results| {
        b.sample_metric_history(
            &SampleQuery {
                run_ids: vec![r.clone()],
                key: "x".into(),
                max_results,
                steps: None,
            },
            None,
        )
        .unwrap()
    };
    let ten = sample(10);
    assert_eq!(ten.len(), 10);
    assert_eq!((ten[0].3, ten[9].3), (0, 99));
    assert_eq!(sample(1).iter().map(|p| p.3).collect::<Vec<_>>(), [99]);
}

#[test]
fn experiments_get_create_duplicate_and_location() {
    let b = backend();
    let id = experiment(&b, "e");
    let got = b.get_experiment(id, None).unwrap();
    assert_eq!(got.artifact_location, Some(format!("/art/{id}")));
    assert_eq!(
        got.tags,
        vec![("team".to_string(), Some("core".to_string()))]
    );
    assert!(b.get_experiment_by_name("nope", None).unwrap().is_none());
    let dup = b.create_experiment(&NewExperiment {
        name: "e".into(),
        tags: vec![],
        location_template: EXPERIMENT_ID_SENTINEL.into(),
    });
    assert!(matches!(dup, Err(CoreError::AlreadyExists(_))));
    assert!(matches!(
        b.get_experiment(999, None),
        Err(CoreError::NotFound(_))
    ));
}

#[test]
fn search_builder_speaks_through_the_dialect() {
    let query = RunQuery {
        experiment_ids: vec![1, 2],
        filters: vec![Filter {
            kind: "param".into(),
            key: "p".into(),
            comparator: "ILIKE".into(),
            value: FilterValue::Text("%a%".into()),
        }],
        order_by: vec![],
        stages: vec!["active".into()],
        limit: Some(5),
        offset: 0,
    };
    let (pg, binds) = search_runs::build(&dialect::Postgres, &query, None).unwrap();
    assert!(pg.contains("x.value ILIKE $5"), "{pg}");
    assert!(pg.ends_with("LIMIT $6 OFFSET $7"), "{pg}");
    assert_eq!(binds.len(), 7);
    let (lite, _) = search_runs::build(&dialect::Sqlite, &query, None).unwrap();
    assert!(lite.contains("lower(x.value) LIKE lower(?5)"), "{lite}");
}

#[test]
fn registry_reads_for_models_and_runs_uris() {
    use registry::VersionSelector::{Alias, Latest, Version};
    let b = backend();
    let exp = experiment(&b, "registry");
    let run_id = run(&b, exp, "r1", 1);
    let conn = rusqlite::Connection::open(b.path()).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO registered_models (name) VALUES ('m');
         INSERT INTO model_versions (name, version, current_stage, source, storage_location, run_id)
         VALUES ('m', 1, 'Production', 'models:/m-1', '/store/1', '{run_id}'),
                ('m', 2, 'None', '/src/2', '', NULL),
                ('m', 3, 'Deleted_Internal', '/src/3', NULL, NULL);
         INSERT INTO registered_model_aliases (alias, version, name) VALUES ('champion', 2, 'm');
         INSERT INTO logged_models (model_id, experiment_id, name, artifact_location,
             creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage,
             source_run_id)
         VALUES ('m-old', {exp}, 'model', '/lm/old', 1, 1, 1, 'active', '{run_id}'),
                ('m-new', {exp}, 'model', '/lm/new', 2, 2, 1, 'active', '{run_id}'),
                ('m-gone', {exp}, 'model', '/lm/gone', 3, 3, 1, 'deleted', '{run_id}');"
    ))
    .unwrap();
    let resolve = |s| b.resolve_model_version("m", &s, None).unwrap();
    // storage_location wins over source; an empty one does not.
    let v1 = resolve(Version(1)).unwrap();
    assert_eq!((v1.version, v1.download_uri.as_str()), (1, "/store/1"));
    assert_eq!(v1.run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(
        resolve(Alias("champion".into())).unwrap().download_uri,
        "/src/2"
    );
    assert_eq!(
        resolve(Latest(Some("production".into()))).unwrap().version,
        1
    );
    // Deleted versions are invisible, to `latest` too; unknown stages are MLflow's to refuse.
    assert_eq!(resolve(Latest(None)).unwrap().version, 2);
    assert_eq!(resolve(Version(3)), None);
    assert_eq!(resolve(Latest(Some("Bogus".into()))), None);
    assert_eq!(resolve(Alias("nope".into())), None);
    // Newest live logged model of that name and run, as MLflow's search orders them.
    assert_eq!(
        b.run_logged_model(&run_id, "model").unwrap(),
        Some(("m-new".into(), "/lm/new".into()))
    );
    assert_eq!(b.run_logged_model(&run_id, "other").unwrap(), None);
    assert_eq!(
        b.logged_model_location("m-old").unwrap(),
        Some(("/lm/old".into(), Some(run_id.clone())))
    );
}

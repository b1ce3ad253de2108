//! The upload, check, rotation and entry use cases against the DEP simulator on loopback,
//! SQLite in memory, the local key vault and the real token reader.

use std::time::Duration;

use chrono::{Duration as Days, SecondsFormat, Utc};
use deptoken_shared::error::{AppError, ErrorCode, ErrorDetail};
use deptoken_shared::model::{KeyState, Stage, TokenStatus};
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use deptoken_shared::usecases::UploadRequest;
use serde_json::json;

use crate::harness::{Harness, admin, contains_credential, other_tenant_admin, reader};

fn upload_of(file: &[u8]) -> UploadRequest {
    UploadRequest {
        file: file.to_vec(),
        ..UploadRequest::default()
    }
}

/// Creates entry `name` and returns its certificate PEM.
async fn create_entry(harness: &Harness, name: &str) -> String {
    harness
        .services
        .create_server(&admin(), name, &format!("{name} office"))
        .await
        .expect("create the entry");
    harness
        .services
        .certificate(&admin(), name)
        .await
        .expect("download the certificate")
        .certificate_pem
}

/// Creates entry `name` and stores an accepted token for it; returns the certificate PEM.
async fn entry_with_token(harness: &Harness, name: &str) -> String {
    let certificate = create_entry(harness, name).await;
    let token = harness.issue_token(&certificate, &[]).await;
    harness
        .services
        .upload_token(&admin(), name, upload_of(&token.file))
        .await
        .expect("upload the first token");
    harness.tick();
    certificate
}

fn code_of<T: std::fmt::Debug>(result: Result<T, AppError>) -> ErrorCode {
    result.expect_err("the call fails").code
}

#[tokio::test]
async fn upload_happy_path_stores_token() {
    let harness = Harness::start().await;
    let certificate = create_entry(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[("admin_id", "abm-admin@acme.example")]).await;
    let request = UploadRequest {
        note: Some("abm-admin@acme.example".to_owned()),
        ..upload_of(&token.file)
    };

    let view = harness.services.upload_token(&admin(), "tokyo", request).await.expect("upload");

    let stored = harness.snapshot("tokyo").await;
    let record = stored.server.expect("entry stored");
    let account = view.account.clone().expect("account details");
    let view_json = serde_json::to_string(&view).expect("serialise the view");
    assert_eq!(view.status, TokenStatus::Ok);
    assert!(view.expires_at.is_some_and(|t| t > Utc::now() + Days::days(360)), "{:?}", view.expires_at);
    assert_eq!(view.days_remaining.map(|d| (364..=366).contains(&d)), Some(true), "{:?}", view.days_remaining);
    assert!(!view.highlight);
    assert_eq!(account.server_name, "Sim MDM Server");
    assert!(!account.server_uuid.is_empty());
    assert_eq!(account.admin_id.as_deref(), Some("abm-admin@acme.example"));
    assert_eq!(view.note.as_deref(), Some("abm-admin@acme.example"));
    assert_eq!(view.consumer_key_fingerprint.as_ref().map(String::len), Some(16));
    assert_eq!(view.uploaded_by.as_deref(), Some("admin@acme.example"));
    assert_eq!(view.last_error, None);
    assert_eq!(record.expires_at, view.expires_at);
    // The upload is version 2; marking the `renewed` confirmation as sent is version 3.
    assert_eq!(record.version, 3);
    assert!(record.credentials.is_some());
    assert_eq!(stored.history.len(), 1);
    assert_eq!(stored.history[0].consumer_key_fingerprint, record.consumer_key_fingerprint.clone().unwrap_or_default());
    assert!(!view_json.contains(&token.consumer_key), "{view_json}");
    assert!(!contains_credential(&view_json), "{view_json}");
    assert!(!contains_credential(&format!("{:?}", record.credentials)), "sealed values are not plain text");
}

#[tokio::test]
async fn upload_publishes_renewed_notification() {
    let harness = Harness::start().await;

    entry_with_token(&harness, "tokyo").await;

    let lines = harness.outbox_lines();
    let record = harness.snapshot("tokyo").await.server.expect("entry stored");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("\"renewed\""), "{}", lines[0]);
    assert!(!contains_credential(&lines[0]), "{}", lines[0]);
    assert_eq!(record.stage, Some(Stage::Renewed));
    assert_eq!(record.notified_stage, Some(Stage::Renewed));
}

#[tokio::test]
async fn upload_bad_files_store_nothing() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let other_certificate = create_entry(&harness, "osaka").await;
    let valid = harness.issue_token(&certificate, &[]).await.file;
    let for_other = harness.issue_token(&other_certificate, &[("server_name", "Osaka")]).await.file;
    let not_json = deptoken_dep_sim::issue_token_file(&certificate, "this is not JSON").expect("issue");
    let missing_fields = deptoken_dep_sim::issue_token_file(&certificate, r#"{"consumer_key":"CK_x"}"#).expect("issue");
    let cases: Vec<(&str, Vec<u8>, ErrorCode)> = vec![
        ("empty", Vec::new(), ErrorCode::EmptyUpload),
        ("over the limit", vec![b'A'; MAX_TOKEN_FILE_BYTES + 1], ErrorCode::TooLarge),
        ("garbage", b"hello, this is not a token file\n".to_vec(), ErrorCode::NotAToken),
        ("certificate", certificate.clone().into_bytes(), ErrorCode::CertificateNotToken),
        ("truncated", valid[..valid.len() * 2 / 3].to_vec(), ErrorCode::MalformedToken),
        ("another certificate", for_other, ErrorCode::WrongRecipient),
        ("payload not JSON", not_json.into_bytes(), ErrorCode::Undecryptable),
        ("payload fields missing", missing_fields.into_bytes(), ErrorCode::InvalidPayload),
    ];
    let before = harness.snapshot("tokyo").await;

    for (label, file, expected) in cases {
        let result = harness.services.upload_token(&admin(), "tokyo", upload_of(&file)).await;

        assert_eq!(code_of(result), expected, "{label}");
        assert_eq!(harness.snapshot("tokyo").await, before, "{label}: stored entry unchanged");
    }
}

#[tokio::test]
async fn upload_wrong_recipient_names_certificate() {
    let harness = Harness::start().await;
    create_entry(&harness, "tokyo").await;
    let other_certificate = create_entry(&harness, "osaka").await;
    let token = harness.issue_token(&other_certificate, &[]).await;

    let error = harness
        .services
        .upload_token(&admin(), "tokyo", upload_of(&token.file))
        .await
        .expect_err("wrong recipient");

    assert!(
        matches!(&error.detail, Some(ErrorDetail::Recipient { serial_hex, .. }) if !serial_hex.is_empty()),
        "{error:?}"
    );
}

#[tokio::test]
async fn upload_apple_verdicts_store_nothing() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let cases = [
        ("expired", json!({"state": "expired"}), ErrorCode::TokenExpired),
        ("revoked", json!({"state": "revoked"}), ErrorCode::TokenRejected),
        ("superseded", json!({"state": "superseded"}), ErrorCode::TokenSuperseded),
        ("account deleted", json!({"state": "account_deleted"}), ErrorCode::AccountInvalid),
        ("terms not accepted", json!({"state": "terms_not_accepted"}), ErrorCode::TermsNotAccepted),
        ("server inactive", json!({"state": "server_inactive"}), ErrorCode::ServerInactive),
        ("rate limited", json!({"fault": "rate_limited", "count": 10}), ErrorCode::AppleRateLimited),
        ("apple 5xx", json!({"fault": "unavailable", "count": 10}), ErrorCode::AppleUnavailable),
    ];
    let before = harness.snapshot("tokyo").await;

    for (label, change, expected) in cases {
        let token = harness.issue_token(&certificate, &[]).await;
        harness.set_sim(&token.consumer_key, change).await;

        let result = harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await;

        assert_eq!(code_of(result), expected, "{label}");
        assert_eq!(harness.snapshot("tokyo").await, before, "{label}: stored entry unchanged");
    }
}

#[tokio::test]
async fn upload_apple_timeout_is_unavailable() {
    let harness = Harness::start_with_timeout(Duration::from_millis(300)).await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    harness.set_sim(&token.consumer_key, json!({"fault": "timeout", "count": 10})).await;
    let before = harness.snapshot("tokyo").await;

    let result = harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await;

    assert_eq!(code_of(result), ErrorCode::AppleUnavailable);
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn upload_expired_token_carries_date() {
    let harness = Harness::start().await;
    let certificate = create_entry(&harness, "tokyo").await;
    let expired_at = (Utc::now() - Days::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let token = harness.issue_token(&certificate, &[("expires_at", &expired_at)]).await;
    let before = harness.snapshot("tokyo").await;

    let error = harness
        .services
        .upload_token(&admin(), "tokyo", upload_of(&token.file))
        .await
        .expect_err("expired");

    let expected_at = chrono::DateTime::parse_from_rfc3339(&expired_at).expect("date").to_utc();
    assert_eq!(error.code, ErrorCode::TokenExpired);
    assert_eq!(error.detail, Some(ErrorDetail::ExpiredAt { expires_at: expected_at }));
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn upload_other_server_needs_confirmation() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[("server_name", "Osaka MDM")]).await;
    let before = harness.snapshot("tokyo").await;

    let refused = harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await;
    let unchanged = harness.snapshot("tokyo").await;
    harness.tick();
    let confirmed = harness
        .services
        .upload_token(
            &admin(),
            "tokyo",
            UploadRequest {
                confirm_server_change: true,
                ..upload_of(&token.file)
            },
        )
        .await;

    let refused = refused.expect_err("server mismatch");
    assert_eq!(refused.code, ErrorCode::ServerMismatch);
    assert_eq!(
        refused.detail,
        Some(ErrorDetail::ServerChanged {
            stored_server_name: "Sim MDM Server".to_owned(),
            uploaded_server_name: "Osaka MDM".to_owned(),
        })
    );
    assert_eq!(unchanged, before);
    let account = confirmed.expect("confirmed upload").account.expect("account");
    assert_eq!(account.server_name, "Osaka MDM");
}

#[tokio::test]
async fn rotation_promotes_staged_key() {
    let harness = Harness::start().await;
    let first_certificate = entry_with_token(&harness, "tokyo").await;

    let staged = harness.services.rotate_key(&admin(), "tokyo").await.expect("rotate");
    let served = harness.services.certificate(&admin(), "tokyo").await.expect("certificate");
    let token = harness.issue_token(&staged.certificate_pem, &[]).await;
    let view = harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await;

    let keys = harness.snapshot("tokyo").await.keys;
    let state_of = |pem: &str| keys.iter().find(|k| k.certificate_pem == pem).map(|k| k.state);
    assert_eq!(staged.state, KeyState::Staged);
    assert_eq!(served.certificate_pem, staged.certificate_pem, "the staged certificate is served");
    assert!(view.is_ok(), "{view:?}");
    assert_eq!(state_of(&staged.certificate_pem), Some(KeyState::Current));
    assert_eq!(state_of(&first_certificate), Some(KeyState::Retired));
    assert_eq!(keys.len(), 2);
}

#[tokio::test]
async fn rotation_retired_key_still_decrypts() {
    let harness = Harness::start().await;
    let first_certificate = entry_with_token(&harness, "tokyo").await;
    let staged = harness.services.rotate_key(&admin(), "tokyo").await.expect("rotate");
    let token = harness.issue_token(&staged.certificate_pem, &[]).await;
    harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await.expect("promote");
    harness.tick();
    let old_token = harness.issue_token(&first_certificate, &[]).await;

    let view = harness.services.upload_token(&admin(), "tokyo", upload_of(&old_token.file)).await;

    let keys = harness.snapshot("tokyo").await.keys;
    let state_of = |pem: &str| keys.iter().find(|k| k.certificate_pem == pem).map(|k| k.state);
    assert!(view.is_ok(), "{view:?}");
    assert_eq!(state_of(&first_certificate), Some(KeyState::Retired));
    assert_eq!(state_of(&staged.certificate_pem), Some(KeyState::Current));
}

#[tokio::test]
async fn rotation_twice_keeps_one_staged_key() {
    let harness = Harness::start().await;
    create_entry(&harness, "tokyo").await;

    let first = harness.services.rotate_key(&admin(), "tokyo").await.expect("rotate");
    let second = harness.services.rotate_key(&admin(), "tokyo").await.expect("rotate again");

    let keys = harness.snapshot("tokyo").await.keys;
    let staged: Vec<_> = keys.iter().filter(|k| k.state == KeyState::Staged).collect();
    let served = harness.services.certificate(&admin(), "tokyo").await.expect("certificate");
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0].key_id.as_str(), second.key_id);
    assert_ne!(first.key_id, second.key_id);
    assert_eq!(served.certificate_pem, second.certificate_pem);
}

#[tokio::test]
async fn other_tenant_gets_not_found() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    let stranger = other_tenant_admin();
    let before = harness.snapshot("tokyo").await;

    let services = &harness.services;
    let codes = [
        ("get", code_of(services.get_server(&stranger, "tokyo").await)),
        ("certificate", code_of(services.certificate(&stranger, "tokyo").await)),
        ("history", code_of(services.history(&stranger, "tokyo").await)),
        ("upload", code_of(services.upload_token(&stranger, "tokyo", upload_of(&token.file)).await)),
        ("note", code_of(services.set_note(&stranger, "tokyo", Some("x")).await)),
        ("rotate", code_of(services.rotate_key(&stranger, "tokyo").await)),
        ("check", code_of(services.check_token(&stranger, "tokyo").await)),
        ("delete", code_of(services.delete_server(&stranger, "tokyo").await)),
    ];
    let listed = services.list_servers(&stranger).await.expect("list");

    for (label, code) in codes {
        assert_eq!(code, ErrorCode::NotFound, "{label}");
    }
    assert!(listed.is_empty());
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn reader_cannot_write() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    let reader = reader();
    let before = harness.snapshot("tokyo").await;

    let services = &harness.services;
    let codes = [
        ("create", code_of(services.create_server(&reader, "osaka", "Osaka").await)),
        ("upload", code_of(services.upload_token(&reader, "tokyo", upload_of(&token.file)).await)),
        ("note", code_of(services.set_note(&reader, "tokyo", Some("x")).await)),
        ("rotate", code_of(services.rotate_key(&reader, "tokyo").await)),
        ("check", code_of(services.check_token(&reader, "tokyo").await)),
        ("delete", code_of(services.delete_server(&reader, "tokyo").await)),
    ];
    let read = services.get_server(&reader, "tokyo").await;

    for (label, code) in codes {
        assert_eq!(code, ErrorCode::Forbidden, "{label}");
    }
    assert!(read.is_ok(), "{read:?}");
    assert_eq!(harness.snapshot("tokyo").await, before);
}

#[tokio::test]
async fn create_rejects_taken_and_invalid_names() {
    let harness = Harness::start().await;
    create_entry(&harness, "tokyo").await;
    let cases = [
        ("taken", "tokyo", "Tokyo", ErrorCode::AlreadyExists),
        ("separator", "a#b", "A", ErrorCode::InvalidRequest),
        ("empty display name", "kyoto", "  ", ErrorCode::InvalidRequest),
        ("control character", "kyoto", "Kyo\u{7}to", ErrorCode::InvalidRequest),
    ];

    for (label, name, display_name, expected) in cases {
        let result = harness.services.create_server(&admin(), name, display_name).await;

        assert_eq!(code_of(result), expected, "{label}");
    }
}

#[tokio::test]
async fn list_is_sorted_by_name() {
    let harness = Harness::start().await;
    for name in ["osaka", "kyoto", "tokyo"] {
        create_entry(&harness, name).await;
    }

    let views = harness.services.list_servers(&admin()).await.expect("list");

    let names: Vec<_> = views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["kyoto", "osaka", "tokyo"]);
    assert!(views.iter().all(|v| v.status == TokenStatus::NoToken));
}

#[tokio::test]
async fn note_set_and_clear() {
    let harness = Harness::start().await;
    create_entry(&harness, "tokyo").await;

    let set = harness.services.set_note(&admin(), "tokyo", Some("  abm@acme.example ")).await.expect("set");
    let cleared = harness.services.set_note(&admin(), "tokyo", None).await.expect("clear");

    assert_eq!(set.note.as_deref(), Some("abm@acme.example"));
    assert_eq!(cleared.note, None);
}

#[tokio::test]
async fn history_lists_newest_first() {
    let harness = Harness::start().await;
    let certificate = entry_with_token(&harness, "tokyo").await;
    let later = Utc::now() + Days::hours(1);
    harness.set_now(later);
    let token = harness.issue_token(&certificate, &[]).await;
    harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await.expect("second upload");

    let history = harness.services.history(&admin(), "tokyo").await.expect("history");

    assert_eq!(history.len(), 2);
    assert_eq!(history[0].uploaded_at, later);
    assert!(history[1].uploaded_at < later);
}

#[tokio::test]
async fn delete_removes_entry() {
    let harness = Harness::start().await;
    entry_with_token(&harness, "tokyo").await;

    harness.services.delete_server(&admin(), "tokyo").await.expect("delete");

    let after = harness.snapshot("tokyo").await;
    assert_eq!(code_of(harness.services.get_server(&admin(), "tokyo").await), ErrorCode::NotFound);
    assert_eq!(after.server, None);
    assert!(after.history.is_empty());
    assert!(after.keys.is_empty());
}

#[tokio::test]
async fn check_records_apple_verdict() {
    let harness = Harness::start().await;
    let certificate = create_entry(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await.expect("upload");
    let checked_at = Utc::now() + Days::minutes(5);
    harness.set_now(checked_at);

    let accepted = harness.services.check_token(&admin(), "tokyo").await.expect("check");
    harness.set_sim(&token.consumer_key, json!({"state": "terms_not_accepted"})).await;
    let terms = harness.services.check_token(&admin(), "tokyo").await.expect("check");

    assert_eq!(accepted.last_error, None);
    assert_eq!(accepted.last_checked_at, Some(checked_at));
    assert_eq!(terms.last_error, Some(ErrorCode::TermsNotAccepted));
    assert_eq!(terms.status, TokenStatus::TermsNotAccepted);
    assert!(terms.highlight);
}

#[tokio::test]
async fn check_apple_down_keeps_token() {
    let harness = Harness::start().await;
    let certificate = create_entry(&harness, "tokyo").await;
    let token = harness.issue_token(&certificate, &[]).await;
    harness.services.upload_token(&admin(), "tokyo", upload_of(&token.file)).await.expect("upload");
    let before = harness.snapshot("tokyo").await.server.expect("entry");
    harness.set_sim(&token.consumer_key, json!({"fault": "unavailable", "count": 10})).await;

    let result = harness.services.check_token(&admin(), "tokyo").await;

    let after = harness.snapshot("tokyo").await.server.expect("entry");
    let view = harness.services.get_server(&admin(), "tokyo").await.expect("get");
    assert_eq!(code_of(result), ErrorCode::AppleUnavailable);
    assert_eq!(after.last_error, Some(ErrorCode::AppleUnavailable));
    assert_eq!(after.credentials, before.credentials);
    assert_eq!(after.expires_at, before.expires_at);
    assert_eq!(view.status, TokenStatus::CheckFailed);
}

#[tokio::test]
async fn check_without_token_is_invalid() {
    let harness = Harness::start().await;
    create_entry(&harness, "tokyo").await;

    let result = harness.services.check_token(&admin(), "tokyo").await;

    assert_eq!(code_of(result), ErrorCode::InvalidRequest);
}


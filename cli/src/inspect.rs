//! `deptoken inspect`: decrypt a server token file offline with an MDM private key and print
//! what an operator needs (expiry, days left, consumer-key fingerprint, recipient) as JSON.
//! The credentials are never printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;
use clap::{Args, ValueEnum};
use deptoken_shared::error::{AppError, ErrorCode, ErrorDetail};
use deptoken_shared::keys::{self, MdmPrivateKey};
use deptoken_shared::messages::{self, Lang};
use deptoken_shared::policy;
use deptoken_shared::token::{EncryptedToken, MAX_TOKEN_FILE_BYTES, RecipientId};
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The MDM private key: PEM or DER, PKCS#1 or PKCS#8.
    #[arg(long)]
    key: PathBuf,
    /// The MDM certificate the token must be encrypted for (PEM or DER).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Language of error messages.
    #[arg(long, value_enum, default_value_t = LangArg::Ja)]
    lang: LangArg,
    /// IANA time zone in which days left are counted.
    #[arg(long, default_value = "Asia/Tokyo")]
    time_zone: Tz,
    /// The server token file (`*_smime.p7m`).
    file: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Ja,
    En,
}

impl From<LangArg> for Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::Ja => Lang::Ja,
            LangArg::En => Lang::En,
        }
    }
}

/// Prints the summary and exits 0, or prints the error JSON and exits 1.
pub fn run(args: &InspectArgs) -> ExitCode {
    match inspect(args) {
        Ok(summary) => {
            println!("{summary:#}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::info!(code = %error.code, "inspect failed");
            let text = messages::render_error(&error, args.lang.into(), args.time_zone);
            let body = json!({"error": {"code": error.code.as_str(), "message": text.message, "action": text.action}});
            println!("{body:#}");
            ExitCode::FAILURE
        }
    }
}

fn inspect(args: &InspectArgs) -> Result<Value, AppError> {
    let key = read_private_key(&args.key)?;
    let file = read_file(&args.file, "file")?;
    if file.len() > MAX_TOKEN_FILE_BYTES {
        return Err(AppError::with_detail(ErrorCode::TooLarge, ErrorDetail::Limit { bytes: MAX_TOKEN_FILE_BYTES }));
    }

    let token = EncryptedToken::parse(&file)?;
    let recipient = choose_recipient(&token, args.cert.as_deref())?;
    let credentials = token.decrypt(&recipient, &key)?;

    let now = Utc::now();
    let expires_at = credentials.access_token_expiry;
    Ok(json!({
        "expires_at": expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "expired": expires_at <= now,
        "days_remaining": policy::days_remaining(expires_at, now, args.time_zone),
        "consumer_key_fingerprint": credentials.consumer_key_fingerprint(),
        "recipient": {"issuer": recipient.issuer, "serial": recipient.serial_hex()},
    }))
}

/// Picks the recipient to decrypt for: the one matching `--cert`, or the token's first.
fn choose_recipient(token: &EncryptedToken, cert: Option<&Path>) -> Result<RecipientId, AppError> {
    let Some(cert) = cert else {
        return token.recipients().first().cloned().ok_or_else(|| AppError::new(ErrorCode::MalformedToken));
    };

    let certificate = read_file(cert, "cert")?;
    let expected = keys::recipient_of_certificate(&certificate).map_err(|_| invalid("cert"))?;
    token
        .recipients()
        .iter()
        .find(|r| **r == expected)
        .cloned()
        .ok_or_else(|| {
            let named = token.recipients().first();
            AppError::with_detail(
                ErrorCode::WrongRecipient,
                ErrorDetail::Recipient {
                    issuer: named.map(|r| r.issuer.clone()).unwrap_or_default(),
                    serial_hex: named.map(RecipientId::serial_hex).unwrap_or_default(),
                },
            )
        })
}

fn read_private_key(path: &Path) -> Result<MdmPrivateKey, AppError> {
    let bytes = read_file(path, "key")?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => MdmPrivateKey::from_pem(text),
        _ => MdmPrivateKey::from_der(&bytes),
    };
    key.map_err(|_| invalid("key"))
}

fn read_file(path: &Path, field: &str) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|error| {
        tracing::error!(path = %path.display(), %error, "cannot read the {field} file");
        invalid(field)
    })
}

fn invalid(field: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: field.to_owned() })
}

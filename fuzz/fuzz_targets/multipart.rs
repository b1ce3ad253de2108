//! The API's `multipart/form-data` upload reader: the input's first line is the
//! `Content-Type` value (with the boundary), the rest is the body.

#![no_main]

use bytes::Bytes;
use deptoken_shared::token::MAX_TOKEN_FILE_BYTES;
use libfuzzer_sys::fuzz_target;

static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();

fuzz_target!(
    init: {
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread().build().expect("build the runtime")
        });
    },
    |data: &[u8]| {
        let Some(runtime) = RUNTIME.get() else { return };
        let (content_type, body) = deptoken_fuzz::split_first_line(data);
        let content_type = String::from_utf8_lossy(content_type).into_owned();
        let body = Bytes::copy_from_slice(body);

        match runtime.block_on(deptoken_api::read_upload_form(&content_type, body)) {
            Ok(upload) => assert!(upload.file.len() <= MAX_TOKEN_FILE_BYTES, "file part over the limit"),
            Err(error) => {
                let status = error.code.http_status();
                assert!((400..500).contains(&status), "{:?} maps to {status}", error.code);
            }
        }
    }
);

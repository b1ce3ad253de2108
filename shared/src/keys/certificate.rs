//! Self-signed MDM certificates: issuing them for a new key, and reading the issuer and serial
//! number that ABM copies into every token it encrypts for them.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Months, TimeDelta, Utc};
use der::{Decode, EncodePem, pem::LineEnding};
use rand::CryptoRng;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use super::{KeyError, pem};
use crate::domain::{ServerName, TenantId};
use crate::token::RecipientId;

/// Length of generated serial numbers in bytes (128 random bits minus the sign bit).
const SERIAL_LEN: usize = 16;
/// How long a generated certificate stays valid.
const VALIDITY_MONTHS: u32 = 120;
/// How far before `now` the validity starts, to tolerate clock skew.
const BACKDATE: TimeDelta = TimeDelta::hours(1);

/// A certificate issued for a new key.
pub(crate) struct IssuedCertificate {
    pub pem: String,
    pub recipient: RecipientId,
}

/// Issues a self-signed X.509 v3 certificate for `key`, signed with RSA PKCS#1 v1.5 and
/// SHA-256, with subject `CN=deptoken MDM <server>,OU=deptoken,O=<tenant>`.
pub(crate) fn issue_self_signed<R: CryptoRng + ?Sized>(
    key: &rsa::PrivateKey,
    tenant: &TenantId,
    server: &ServerName,
    now: DateTime<Utc>,
    rng: &mut R,
) -> Result<IssuedCertificate, KeyError> {
    // Tenant and server names contain only letters, digits, '-', '_' and '.', so they need
    // no RFC 4514 escaping.
    let subject = Name::from_str(&format!("CN=deptoken MDM {server},OU=deptoken,O={tenant}"))
        .map_err(|error| KeyError::Generation(format!("invalid subject name: {error}")))?;
    let serial = random_serial(rng)?;
    let validity = validity_from(now)?;
    let public_key = SubjectPublicKeyInfoOwned::from_key(&key.to_public_key())
        .map_err(|error| KeyError::Generation(format!("public key encoding failed: {error}")))?;

    let profile = MdmCertificateProfile { subject };
    let builder = CertificateBuilder::new(profile, serial, validity, public_key)
        .map_err(|error| KeyError::Generation(format!("certificate builder failed: {error}")))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let certificate = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .map_err(|error| KeyError::Generation(format!("certificate signing failed: {error}")))?;

    let tbs = certificate.tbs_certificate();
    let recipient = RecipientId::from_issuer_and_serial(tbs.issuer(), tbs.serial_number())
        .map_err(|error| KeyError::Generation(format!("issuer encoding failed: {error}")))?;
    let pem = certificate
        .to_pem(LineEnding::LF)
        .map_err(|error| KeyError::Generation(format!("certificate encoding failed: {error}")))?;
    Ok(IssuedCertificate { pem, recipient })
}

/// Reads the issuer and serial of a certificate given as PEM or DER, as a token would name
/// them. PEM input may have text around the first `CERTIFICATE` block, a UTF-8 BOM and CRLF.
pub fn recipient_of_certificate(pem_or_der: &[u8]) -> Result<RecipientId, KeyError> {
    let certificate = parse_certificate(pem_or_der)?;
    let tbs = certificate.tbs_certificate();
    RecipientId::from_issuer_and_serial(tbs.issuer(), tbs.serial_number())
        .map_err(|_| KeyError::InvalidCertificate)
}

fn parse_certificate(pem_or_der: &[u8]) -> Result<Certificate, KeyError> {
    let pem_block = std::str::from_utf8(pem_or_der)
        .ok()
        .and_then(|text| pem::decode_block(text, "CERTIFICATE"));
    match pem_block {
        Some(Ok(der)) => Certificate::from_der(&der).map_err(|_| KeyError::InvalidCertificate),
        Some(Err(_)) => Err(KeyError::InvalidCertificate),
        None => Certificate::from_der(pem_or_der).map_err(|_| KeyError::InvalidCertificate),
    }
}

/// Draws a random positive serial of exactly [`SERIAL_LEN`] bytes. The first byte is in
/// 0x01..=0x7F, so the DER encoding needs no sign byte and drops no leading zero.
fn random_serial<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<SerialNumber, KeyError> {
    let mut bytes = [0u8; SERIAL_LEN];
    while bytes[0] == 0 {
        rng.fill_bytes(&mut bytes);
        bytes[0] &= 0x7F;
    }
    SerialNumber::new(&bytes)
        .map_err(|error| KeyError::Generation(format!("invalid serial number: {error}")))
}

fn validity_from(now: DateTime<Utc>) -> Result<Validity, KeyError> {
    let not_before = now - BACKDATE;
    let not_after = now
        .checked_add_months(Months::new(VALIDITY_MONTHS))
        .ok_or_else(|| KeyError::Generation("certificate expiry is out of range".to_owned()))?;
    Ok(Validity::new(
        to_x509_time(not_before)?,
        to_x509_time(not_after)?,
    ))
}

/// Converts to an X.509 time with second precision: UTCTime before 2050, GeneralizedTime
/// from 2050 on, as RFC 5280 requires.
fn to_x509_time(instant: DateTime<Utc>) -> Result<Time, KeyError> {
    let seconds = u64::try_from(instant.timestamp())
        .map_err(|_| KeyError::Generation("certificate validity is before 1970".to_owned()))?;
    let date_time =
        der::DateTime::from_unix_duration(Duration::from_secs(seconds)).map_err(|error| {
            KeyError::Generation(format!("certificate validity is out of range: {error}"))
        })?;
    Ok(Time::from(date_time))
}

/// An end-entity profile for a self-signed key transport certificate: issuer equals subject,
/// basicConstraints CA:false, keyUsage keyEncipherment and digitalSignature, and a subject
/// key identifier.
struct MdmCertificateProfile {
    subject: Name,
}

impl BuilderProfile for MdmCertificateProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        subject_public_key: SubjectPublicKeyInfoRef<'_>,
        _issuer_public_key: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions = Vec::new();

        let basic_constraints = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        extensions.push(basic_constraints.to_extension(tbs.subject(), &extensions)?);

        let key_usage = KeyUsage(KeyUsages::KeyEncipherment | KeyUsages::DigitalSignature);
        extensions.push(key_usage.to_extension(tbs.subject(), &extensions)?);

        let key_identifier = SubjectKeyIdentifier::try_from(subject_public_key)?;
        extensions.push(key_identifier.to_extension(tbs.subject(), &extensions)?);

        Ok(extensions)
    }
}

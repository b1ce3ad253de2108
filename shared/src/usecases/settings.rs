//! The tenant's settings: the language of its notifications and the time zone in which its
//! days left are counted and its dates are shown. A tenant without a settings item gets the
//! deployment's defaults ([`Services::time_zone`] and [`NotificationSettings::lang`](super::NotificationSettings::lang)).

use chrono_tz::Tz;
use serde::Serialize;

use crate::Lang;
use crate::domain::{Caller, TenantId};
use crate::error::{AppError, ErrorCode, ErrorDetail};
use crate::model::TenantSettings;
use crate::ports::StoreError;

use super::Services;
use super::failure::{self, cause_chain};

/// How often an update is tried again after another write changed the settings in between.
const WRITE_ATTEMPTS: usize = 3;

/// The language and time zone that apply to one tenant: its own settings, or the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveSettings {
    pub notification_language: Lang,
    pub time_zone: Tz,
    /// The stored item's version; 0 when the tenant has no settings item.
    pub version: u64,
}

/// The settings as the API returns them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    /// `ja` or `en`.
    pub notification_language: Lang,
    /// The IANA time zone name, such as `Asia/Tokyo`.
    pub time_zone: String,
    /// 0 while the tenant uses the defaults.
    pub version: u64,
}

impl From<EffectiveSettings> for SettingsView {
    fn from(settings: EffectiveSettings) -> Self {
        Self {
            notification_language: settings.notification_language,
            time_zone: settings.time_zone.name().to_owned(),
            version: settings.version,
        }
    }
}

impl Services {
    /// Returns the deployment's defaults, which apply to every tenant without a settings item.
    pub fn default_settings(&self) -> EffectiveSettings {
        EffectiveSettings {
            notification_language: self.notifications.lang,
            time_zone: self.time_zone,
            version: 0,
        }
    }

    /// Reads the tenant's settings, or returns the defaults when it has none.
    pub async fn effective_settings(&self, tenant: &TenantId) -> Result<EffectiveSettings, StoreError> {
        let stored = self.store.get_settings(tenant).await?;
        Ok(match stored {
            Some(settings) => EffectiveSettings {
                notification_language: settings.notification_language,
                time_zone: settings.time_zone,
                version: settings.version,
            },
            None => self.default_settings(),
        })
    }

    /// Returns the tenant's time zone for a view. When the settings cannot be read, it logs
    /// the error and returns the default zone, because a date shown in the default zone is
    /// better than failing a request whose write may already have succeeded.
    pub async fn view_time_zone(&self, tenant: &TenantId) -> Tz {
        match self.effective_settings(tenant).await {
            Ok(settings) => settings.time_zone,
            Err(error) => {
                tracing::warn!(%tenant, error = %cause_chain(&error), "failed to read the tenant's settings, so dates are shown in the default time zone");
                self.time_zone
            }
        }
    }

    /// Returns the caller's tenant's settings, or the defaults with version 0 when it has none.
    pub async fn get_settings(&self, caller: &Caller) -> Result<SettingsView, AppError> {
        let settings = self
            .effective_settings(&caller.tenant)
            .await
            .map_err(|error| failure::from_tenant_store(error, "get_settings", &caller.tenant))?;
        Ok(settings.into())
    }

    /// Stores the caller's tenant's notification language (`ja` or `en`) and time zone (an
    /// IANA name in chrono-tz's time zone database) and returns them with the new version.
    ///
    /// Errors: `forbidden` for a reader, `invalid_request` naming `notification_language` or
    /// `time_zone`, `conflict` when other writes changed the settings on every attempt.
    #[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
    pub async fn update_settings(&self, caller: &Caller, notification_language: &str, time_zone: &str) -> Result<SettingsView, AppError> {
        caller.require_write()?;
        let notification_language = parse_language(notification_language)?;
        let time_zone = parse_time_zone(time_zone)?;

        // The request replaces the settings whole, so a write that lost a race is simply
        // tried again on the version that won.
        for _ in 0..WRITE_ATTEMPTS {
            let stored = self
                .store
                .get_settings(&caller.tenant)
                .await
                .map_err(|error| failure::from_tenant_store(error, "get_settings", &caller.tenant))?;
            let expected_version = stored.as_ref().map(|settings| settings.version);
            let updated = TenantSettings {
                tenant: caller.tenant.clone(),
                notification_language,
                time_zone,
                version: expected_version.unwrap_or(0) + 1,
            };

            match self.store.put_settings(&updated, expected_version).await {
                Ok(()) => {
                    tracing::info!(
                        notification_language = notification_language.as_str(),
                        time_zone = time_zone.name(),
                        version = updated.version,
                        "tenant settings updated"
                    );
                    return Ok(EffectiveSettings {
                        notification_language,
                        time_zone,
                        version: updated.version,
                    }
                    .into());
                }
                Err(StoreError::Conflict | StoreError::AlreadyExists) => {
                    tracing::debug!("tenant settings changed by another write, so the update is tried again");
                }
                Err(error) => return Err(failure::from_tenant_store(error, "put_settings", &caller.tenant)),
            }
        }
        tracing::info!(attempts = WRITE_ATTEMPTS, "tenant settings update failed because every attempt conflicted with another write");
        Err(AppError::new(ErrorCode::Conflict))
    }
}

fn parse_language(value: &str) -> Result<Lang, AppError> {
    match value {
        "ja" => Ok(Lang::Ja),
        "en" => Ok(Lang::En),
        _ => Err(invalid_field("notification_language")),
    }
}

fn parse_time_zone(value: &str) -> Result<Tz, AppError> {
    value.parse::<Tz>().map_err(|_| invalid_field("time_zone"))
}

fn invalid_field(field: &str) -> AppError {
    AppError::with_detail(ErrorCode::InvalidRequest, ErrorDetail::InvalidField { field: field.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_accepts_ja_and_en_only() {
        let cases = [("ja", Some(Lang::Ja)), ("en", Some(Lang::En)), ("EN", None), ("fr", None), ("", None)];

        for (value, expected) in cases {
            assert_eq!(parse_language(value).ok(), expected, "{value:?}");
        }
    }

    #[test]
    fn time_zone_accepts_iana_names_only() {
        let cases = [
            ("Asia/Tokyo", Some(chrono_tz::Asia::Tokyo)),
            ("America/Los_Angeles", Some(chrono_tz::America::Los_Angeles)),
            ("UTC", Some(chrono_tz::UTC)),
            ("Mars/Olympus_Mons", None),
            ("+09:00", None),
            ("", None),
        ];

        for (value, expected) in cases {
            assert_eq!(parse_time_zone(value).ok(), expected, "{value:?}");
        }
    }

    #[test]
    fn invalid_value_names_the_field() {
        let error = parse_time_zone("Nowhere/City").unwrap_err();

        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert_eq!(error.detail, Some(ErrorDetail::InvalidField { field: "time_zone".to_owned() }));
    }
}

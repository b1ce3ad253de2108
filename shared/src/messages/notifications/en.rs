//! English notification texts, with ABM's English screen labels.

use std::fmt::Write as _;

use crate::error::ErrorCode;
use crate::model::Stage;

use super::sms::{fit, gsm7_septets};
use super::{NotificationFacts, NotificationText};

pub(super) fn render(stage: Stage, facts: &NotificationFacts) -> NotificationText {
    NotificationText {
        subject: subject(stage, facts),
        body: body(stage, facts),
        sms: sms(stage, facts),
    }
}

fn subject(stage: Stage, facts: &NotificationFacts) -> String {
    let name = &facts.display_name;
    let (manager, _, _) = facts.manager();
    match stage {
        Stage::Renewed => format!("DEP server token renewed: {name}"),
        Stage::Days60 => format!("DEP server token {}: {name}", expires_in(facts)),
        Stage::Days30 | Stage::Days14 | Stage::Days7 => {
            format!("Action needed: DEP server token {}: {name}", expires_in(facts))
        }
        Stage::Days3 | Stage::Days1 => format!("Urgent: DEP server token {}: {name}", expires_in(facts)),
        Stage::Expired => format!("Urgent: DEP server token expired: {name}"),
        Stage::TokenRejected => format!("Urgent: DEP server token no longer valid: {name}"),
        Stage::TermsNotAccepted => format!("Urgent: new {manager} Terms and Conditions must be accepted: {name}"),
    }
}

/// `expires in N days`, `expires in 1 day` or `expires today`.
fn expires_in(facts: &NotificationFacts) -> String {
    match facts.days_remaining {
        Some(1) => "expires in 1 day".to_owned(),
        Some(days) if days > 1 => format!("expires in {days} days"),
        _ => "expires today".to_owned(),
    }
}

fn expiry(facts: &NotificationFacts) -> String {
    facts
        .expires_at
        .map(|at| crate::messages::format_instant(at, crate::Lang::En, facts.time_zone))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn body(stage: Stage, facts: &NotificationFacts) -> String {
    let mut text = String::new();
    text.push_str(&opening(stage, facts));
    text.push_str("\n\n");
    text.push_str(&facts_block(stage, facts));
    text.push('\n');
    match stage {
        Stage::Renewed => text.push_str(&renewed_advice(facts)),
        Stage::TermsNotAccepted => text.push_str(&terms_steps(facts)),
        _ => text.push_str(&renewal_steps(facts)),
    }
    text.push('\n');
    if let Some(url) = &facts.portal_url {
        let _ = writeln!(text, "Portal: {url}");
    }
    text.push_str("This message was sent automatically by deptoken.\n");
    text
}

fn opening(stage: Stage, facts: &NotificationFacts) -> String {
    let name = &facts.display_name;
    let (manager, _, _) = facts.manager();
    match stage {
        Stage::Renewed => format!(
            "The DEP server token of {name} was renewed. The new token expires on {}.",
            expiry(facts)
        ),
        Stage::Days60 | Stage::Days30 | Stage::Days14 | Stage::Days7 | Stage::Days3 | Stage::Days1 => format!(
            "The DEP server token of {name} {} ({}).\n\
             After it expires, devices assigned to this server can no longer enroll through Automated \
             Device Enrollment (ADE, formerly DEP). Please renew it soon with the steps below.",
            expires_in(facts),
            expiry(facts)
        ),
        Stage::Expired => format!(
            "The DEP server token of {name} expired on {}.\n\
             New devices cannot enroll through Automated Device Enrollment (ADE, formerly DEP). \
             Download a new token and upload it with the steps below.",
            expiry(facts)
        ),
        Stage::TokenRejected => format!(
            "Apple rejected the DEP server token of {name}. {}\n\
             New devices cannot enroll through Automated Device Enrollment (ADE, formerly DEP). \
             Download a new token and upload it with the steps below.",
            rejection_reason(facts)
        ),
        Stage::TermsNotAccepted => format!(
            "{manager} has new Terms and Conditions that must be accepted.\n\
             Until they are accepted, the DEP server token of {name} cannot use Apple's device \
             enrollment service, and new devices cannot enroll through Automated Device Enrollment \
             (ADE, formerly DEP)."
        ),
    }
}

fn rejection_reason(facts: &NotificationFacts) -> String {
    let (manager, _, _) = facts.manager();
    match facts.reason {
        Some(ErrorCode::TokenSuperseded) => {
            format!(
                "A newer token was downloaded in {manager}, which made this one invalid. \
                 If you kept the token file downloaded then, upload that file."
            )
        }
        Some(ErrorCode::AccountInvalid) => {
            "The Apple Account that downloaded the token was deleted or its password was changed.".to_owned()
        }
        Some(ErrorCode::ServerInactive) => {
            format!("The MDM server (device management service) was deleted or deactivated in {manager}.")
        }
        Some(ErrorCode::TokenExpired) => "Apple treats the token as expired.".to_owned(),
        _ => "The token was revoked or is no longer accepted by Apple.".to_owned(),
    }
}

fn facts_block(stage: Stage, facts: &NotificationFacts) -> String {
    let (manager, _, _) = facts.manager();
    let mut text = String::from("Details\n");
    let _ = writeln!(text, "DEP server: {} ({})", facts.display_name, facts.server);
    if let Some(server) = &facts.abm_server_name {
        let _ = writeln!(text, "MDM server in {manager}: {server}");
    }
    if let Some(org) = &facts.org_name {
        let _ = writeln!(text, "Organization: {org}");
    }
    let _ = writeln!(text, "Expires: {}", expiry(facts));
    match facts.days_remaining {
        Some(1) => text.push_str("Days left: 1\n"),
        Some(days) if days > 1 => {
            let _ = writeln!(text, "Days left: {days}");
        }
        Some(0) if stage != Stage::Expired => text.push_str("Days left: 0 (expires today)\n"),
        Some(_) => text.push_str("Days left: none (expired)\n"),
        None => {}
    }
    if let Some(account) = &facts.apple_account {
        let _ = writeln!(text, "Apple Account that downloaded the token: {account}");
    }
    if let Some(note) = facts.note.as_ref().filter(|note| Some(*note) != facts.apple_account.as_ref()) {
        let _ = writeln!(text, "Note: {note}");
    }
    text
}

fn renewal_steps(facts: &NotificationFacts) -> String {
    let (manager, _, url) = facts.manager();
    let server = facts
        .abm_server_name
        .as_ref()
        .map(|name| format!("\"{name}\""))
        .unwrap_or_else(|| "the server".to_owned());
    let portal = portal_place(facts);

    format!(
        "How to renew\n\
         1. Sign in to {manager} ({url}) with an Apple Account that has the Administrator or Device Manager role.\n\
         2. Click your name at the bottom left, then choose Preferences.\n\
         3. Choose MDM Servers (Device Management Services on newer screens), then select {server}.\n\
         4. Click Download Token and save the server token file (.p7m).\n   \
            Downloading a new token makes the previous one unusable at once, so go on to step 5 right away.\n\
         5. In {portal}, choose the server token file for \"{}\", enter the Apple Account you used in {manager} in the note field, and save.\n",
        facts.display_name
    )
}

fn terms_steps(facts: &NotificationFacts) -> String {
    let (manager, _, url) = facts.manager();
    let portal = portal_place(facts);

    format!(
        "What to do\n\
         1. Sign in to {manager} ({url}) with an Apple Account that has the Administrator role.\n\
         2. Review the new Terms and Conditions shown and accept them.\n\
         3. In {portal}, check \"{}\" again. If you skip this, the next daily check picks up the change.\n\
         You do not need to upload the server token again.\n",
        facts.display_name
    )
}

fn renewed_advice(facts: &NotificationFacts) -> String {
    let account = match &facts.apple_account {
        Some(account) => format!("Renew it with the same Apple Account ({account}) next time."),
        None => "Renew it with the same Apple Account next time.".to_owned(),
    };
    format!("Next renewal\nReminders start 60 days before the expiry. {account}\n")
}

fn portal_place(facts: &NotificationFacts) -> String {
    match &facts.portal_url {
        Some(url) => format!("the portal's DEP server token screen ({url})"),
        None => "the portal's DEP server token screen".to_owned(),
    }
}

/// One SMS: the full sentence when the display name fits the GSM alphabet (160 characters),
/// a shorter one when it does not and the whole text must fit 70 UCS-2 units.
fn sms(stage: Stage, facts: &NotificationFacts) -> String {
    let (_, short, _) = facts.manager();
    let date = facts
        .expires_at
        .map(|at| at.with_timezone(&facts.time_zone).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let when = expires_in(facts);
    let roomy = gsm7_septets(&facts.display_name).is_some();

    fit(&facts.display_name, "...", |name| match (stage, roomy) {
        (Stage::Renewed, true) => format!("DEP server token of {name} renewed. The new token expires on {date}."),
        (Stage::Renewed, false) => format!("DEP token {name}: renewed, expires {date}."),
        (Stage::Expired, true) => format!(
            "DEP server token of {name} expired on {date}. Download a new token in {short} and upload it to the portal."
        ),
        (Stage::Expired, false) => format!("DEP token {name}: expired {date}. Renew in {short}."),
        (Stage::TokenRejected, true) => format!(
            "DEP server token of {name} was rejected by Apple. Download a new token in {short} and upload it to the portal."
        ),
        (Stage::TokenRejected, false) => format!("DEP token {name}: rejected by Apple. Renew in {short}."),
        (Stage::TermsNotAccepted, true) => format!(
            "DEP server token of {name}: new {short} Terms and Conditions must be accepted. Sign in to {short} to accept them."
        ),
        (Stage::TermsNotAccepted, false) => format!("DEP token {name}: accept new {short} terms."),
        (_, true) => format!(
            "DEP server token of {name} {when} ({date}). Download a new token in {short} and upload it to the portal."
        ),
        (_, false) => format!("DEP token {name}: {when} ({date}). Renew in {short}."),
    })
}

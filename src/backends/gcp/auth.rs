//! Credentials and project as Google's own tools find them, decided without the network:
//! Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's
//! `~/.config/gcloud/application_default_credentials.json`, AIP-4110/4113), and the metadata
//! server only on a Compute Engine VM (its DMI product name says so) or with `metadata = true`.
//! The project: `projects`, else `GOOGLE_CLOUD_PROJECT`/`CLOUDSDK_CORE_PROJECT`, else gcloud's
//! active configuration (`[core] project`), else the credentials file's `project_id` or
//! `quota_project_id`. A credentials file holds secrets: only its path and its `type`,
//! `project_id` and `quota_project_id` are ever read here, and nothing of it is printed.

use super::settings::Settings;
use crate::error::{Error, Result};
use google_cloud_auth::credentials::{self, Credentials};
use std::path::PathBuf;

/// Where a Compute Engine VM says what it is (read by gcloud and the auth libraries too).
const DMI_PRODUCT: &str = "/sys/class/dmi/id/product_name";

/// The credentials file ADC would use, if one exists.
pub fn adc_file(s: &Settings) -> Option<PathBuf> {
    if let Some(p) = s.credentials_path() {
        return Some(p);
    }
    if let Some(p) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")?;
    let p = PathBuf::from(home).join(".config/gcloud/application_default_credentials.json");
    p.is_file().then_some(p)
}

fn on_compute_engine() -> bool {
    std::fs::read_to_string(DMI_PRODUCT).is_ok_and(|p| p.trim().starts_with("Google"))
}

/// Why no credentials can be had without asking the network, or None when they can.
pub fn missing(s: &Settings) -> Option<String> {
    if adc_file(s).is_some() || s.metadata || on_compute_engine() {
        return None;
    }
    Some(
        "no Google credentials (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default \
         login`, or backends.gcp.credentials_file); the metadata server is used only on Compute \
         Engine or with backends.gcp.metadata = true"
            .into(),
    )
}

/// The credentials every call carries.
pub fn credentials(s: &Settings) -> Result<Credentials> {
    let fail = |m: String| Error::backend("gcp", format!("credentials: {m}"));
    let Some(path) = s.credentials_path() else {
        // ADC: the variable, gcloud's file, then the metadata server (gated by `missing`)
        return credentials::Builder::default()
            .build()
            .map_err(|e| fail(e.to_string()));
    };
    let json: serde_json::Value = read_json(&path).map_err(fail)?;
    let built = match json.get("type").and_then(|t| t.as_str()) {
        Some("service_account") => credentials::service_account::Builder::new(json).build(),
        Some("authorized_user") => credentials::user_account::Builder::new(json).build(),
        other => {
            return Err(fail(format!(
                "{}: type {other:?} is not a service account key or gcloud user credentials",
                path.display()
            )));
        }
    };
    built.map_err(|e| fail(e.to_string()))
}

fn read_json(path: &std::path::Path) -> std::result::Result<serde_json::Value, String> {
    let text = crate::safefile::read_to_string(path, None, 1 << 20)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // the parse error would quote the file: only its position is said
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// gcloud's configuration directory and active configuration's file.
fn gcloud_config() -> Option<PathBuf> {
    let dir = match std::env::var_os("CLOUDSDK_CONFIG").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config/gcloud"),
    };
    let active = std::env::var("CLOUDSDK_ACTIVE_CONFIG_NAME")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::fs::read_to_string(dir.join("active_config")).ok())
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| "default".into());
    Some(dir.join("configurations").join(format!("config_{active}")))
}

/// `section/key` of gcloud's active configuration (an INI file).
fn gcloud_property(section: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(gcloud_config()?).ok()?;
    ini_value(&text, section, key)
}

fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = "";
    for line in text.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim();
        } else if current == section
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_string()).filter(|v| !v.is_empty());
        }
    }
    None
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The projects to search.
pub fn projects(s: &Settings) -> Result<Vec<String>> {
    if !s.projects.is_empty() {
        return Ok(s.projects.clone());
    }
    let from_file = || {
        let json = read_json(&adc_file(s)?).ok()?;
        ["project_id", "quota_project_id"]
            .iter()
            .find_map(|k| json.get(*k)?.as_str().map(str::to_string))
    };
    var("GOOGLE_CLOUD_PROJECT")
        .or_else(|| var("CLOUDSDK_CORE_PROJECT"))
        .or_else(|| gcloud_property("core", "project"))
        .or_else(from_file)
        .map(|p| vec![p])
        .ok_or_else(|| {
            Error::Usage(
                "gcp: no project: set backends.gcp.projects, GOOGLE_CLOUD_PROJECT or `gcloud config set project`"
                    .into(),
            )
        })
}

/// The projects to search, the metadata server's project last (on Compute Engine, or with
/// `metadata = true`), as gcloud falls back to it.
pub async fn projects_anywhere(s: &Settings) -> Result<Vec<String>> {
    match projects(s) {
        Err(e) if s.metadata || on_compute_engine() => match super::metadata::project_id().await {
            Some(p) => Ok(vec![p]),
            None => Err(e),
        },
        other => other,
    }
}

/// The zone `create` uses when none is given.
pub fn default_zone(s: &Settings) -> Option<String> {
    s.zone
        .clone()
        .or_else(|| var("CLOUDSDK_COMPUTE_ZONE"))
        .or_else(|| gcloud_property("compute", "zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcloud_properties_are_read_from_their_section() {
        let text = "[core]\naccount = a@b.c\nproject = my-proj\n\n[compute]\nzone = europe-west1-b\nregion=x\n";
        assert_eq!(
            ini_value(text, "core", "project").as_deref(),
            Some("my-proj")
        );
        assert_eq!(
            ini_value(text, "compute", "zone").as_deref(),
            Some("europe-west1-b")
        );
        assert_eq!(ini_value(text, "core", "zone"), None);
        assert_eq!(ini_value("[core]\nproject =\n", "core", "project"), None);
    }
}

//! What the browser and the job tables share: job statuses, what a job works on, and the
//! console's names for the job types.

use serde::{Deserialize, Serialize};

/// A job's life: waiting, claimed by a worker, then one of the two ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Init,
    Running,
    Success,
    Fail,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Init => "INIT",
            JobStatus::Running => "RUNNING",
            JobStatus::Success => "SUCCESS",
            JobStatus::Fail => "FAIL",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        [JobStatus::Init, JobStatus::Running, JobStatus::Success, JobStatus::Fail]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// The IMS API's own words, which the Jobs page shows too.
    pub fn label(self) -> &'static str {
        self.as_str()
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Fail)
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(JobStatus);

/// What a job works on and produced, as the Jobs page and the IMS job API show it. Empty
/// fields are left out of the stored JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobEntities {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image_name: String,
    /// Where the work goes or what it acts on, in words (a bucket object, an ECS).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub disk_id: String,
    /// Of an exported file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One row of the Jobs page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub job_type: String,
    pub status: JobStatus,
    pub percent: f64,
    pub current_task: String,
    pub fail_reason: String,
    pub image_id: String,
    pub image_name: String,
    pub target: String,
    /// The ECS a compute job works on, if any.
    pub server_id: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// The console's name for a job type (the IMS API names them imsImportImageJob and so on).
pub fn job_type_label(job_type: &str) -> &str {
    match job_type {
        "imsImportImageJob" => "Import image",
        "imsNativeExportImageJob" => "Export image",
        "imsCreateImageByInstance" => "Create system disk image",
        "imsCreateWholeImageByInstanceJob" => "Create full-ECS image",
        "imsVolumeCreateImageJob" => "Create data disk image",
        "ecsCreateServerJob" => "Create ECS",
        "ecsStartServerJob" => "Start ECS",
        "ecsStopServerJob" => "Stop ECS",
        "ecsChangeOsJob" => "Change OS",
        "evsCreateVolumeJob" => "Create EVS disk",
        "imsAddImageMembersJob" => "Share image",
        "imsDelImageMembersJob" => "Stop sharing image",
        "imsUpdateImageMembersJob" => "Accept or reject shared image",
        "imsPurgeRecycledImageJob" => "Remove image from recycle bin",
        "imsCopyImageInRegionJob" => "Replicate image within region",
        "imsCrossRegionCopyImageJob" => "Replicate image across regions",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_serialize_as_the_api_does() {
        for status in [JobStatus::Init, JobStatus::Running, JobStatus::Success, JobStatus::Fail] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(JobStatus::Fail.is_finished() && !JobStatus::Running.is_finished());
    }

    #[test]
    fn empty_entities_are_left_out() {
        let entities = JobEntities { image_id: "i".into(), ..Default::default() };
        assert_eq!(serde_json::to_string(&entities).unwrap(), r#"{"image_id":"i"}"#);
    }
}

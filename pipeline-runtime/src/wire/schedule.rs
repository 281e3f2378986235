//! Schedules: a cron or recurrence trigger whose action creates a pipeline job (reference:
//! `azureml-rest.md` §13 "Schedules"; model `Schedule` of api-version 2025-12-01).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rest::PipelineJob;

/// `PUT {WS}/schedules/{name}` body and GET answer (`Schedule`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Schedule {
    /// ARM id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The schedule name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Properties.
    pub properties: ScheduleProperties,
}

/// `Schedule.properties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleProperties {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it fires.
    pub trigger: Trigger,
    /// What it does.
    pub action: ScheduleAction,
    /// Whether it fires. Create omits it (the service enables a new schedule); enable and
    /// disable send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Asset properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// `Creating`, `Succeeded`, … (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// `TriggerBase`, discriminated by `triggerType`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "triggerType")]
pub enum Trigger {
    /// `CronTrigger`: a five-field cron expression.
    Cron {
        /// `0 6 * * *`.
        expression: String,
        /// The time zone the expression is read in (`UTC`).
        #[serde(rename = "timeZone")]
        time_zone: String,
        /// ISO 8601 start.
        #[serde(rename = "startTime", default, skip_serializing_if = "Option::is_none")]
        start_time: Option<String>,
        /// ISO 8601 end.
        #[serde(rename = "endTime", default, skip_serializing_if = "Option::is_none")]
        end_time: Option<String>,
    },
    /// `RecurrenceTrigger`: every `interval` `frequency` units, at `schedule`'s times.
    Recurrence {
        /// The unit.
        frequency: Frequency,
        /// How many units between two runs.
        interval: u32,
        /// At which hours and minutes (day, week and month frequencies).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schedule: Option<RecurrenceSchedule>,
        /// The time zone (`UTC`).
        #[serde(rename = "timeZone")]
        time_zone: String,
        /// ISO 8601 start.
        #[serde(rename = "startTime", default, skip_serializing_if = "Option::is_none")]
        start_time: Option<String>,
        /// ISO 8601 end.
        #[serde(rename = "endTime", default, skip_serializing_if = "Option::is_none")]
        end_time: Option<String>,
    },
}

/// `RecurrenceFrequency`, written lower-case as Microsoft's SDK sends it (§13); the service's
/// PascalCase is read too.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every minute.
    #[serde(alias = "Minute")]
    Minute,
    /// Every hour.
    #[serde(alias = "Hour")]
    Hour,
    /// Every day.
    #[serde(alias = "Day")]
    Day,
    /// Every week.
    #[serde(alias = "Week")]
    Week,
    /// Every month.
    #[serde(alias = "Month")]
    Month,
}

/// `RecurrenceSchedule`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceSchedule {
    /// Hours (0–23).
    pub hours: Vec<u8>,
    /// Minutes (0–59).
    pub minutes: Vec<u8>,
    /// Week days (`Monday`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week_days: Option<Vec<String>>,
    /// Days of the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month_days: Option<Vec<u8>>,
}

/// `ScheduleActionBase`, discriminated by `actionType`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "actionType")]
pub enum ScheduleAction {
    /// `JobScheduleAction`: create a job from `jobDefinition` (a pipeline job without a name).
    CreateJob {
        /// The job's properties.
        #[serde(rename = "jobDefinition")]
        job_definition: Box<PipelineJob>,
    },
}

impl Schedule {
    /// The body creating a schedule that runs `job` on `trigger` (`isEnabled` omitted, §13).
    pub fn create_job(job: PipelineJob, trigger: Trigger, display_name: Option<String>) -> Self {
        Self {
            id: None,
            name: None,
            properties: ScheduleProperties {
                display_name,
                description: None,
                trigger,
                action: ScheduleAction::CreateJob {
                    job_definition: Box::new(job),
                },
                is_enabled: None,
                tags: BTreeMap::new(),
                properties: BTreeMap::new(),
                provisioning_state: None,
            },
        }
    }

    /// Whether the schedule fires (a schedule that does not say is enabled).
    pub fn enabled(&self) -> bool {
        self.properties.is_enabled.unwrap_or(true)
    }

    /// The same schedule as a PUT body: read-only fields dropped.
    pub fn to_put(&self) -> Self {
        let mut put = self.clone();
        put.id = None;
        put.name = None;
        put.properties.provisioning_state = None;
        put
    }
}

impl Trigger {
    /// One line for people: `cron "0 6 * * *" (UTC)`, `every 2 day at 06:00 (UTC)`.
    pub fn describe(&self) -> String {
        match self {
            Trigger::Cron {
                expression,
                time_zone,
                ..
            } => format!("cron \"{expression}\" ({time_zone})"),
            Trigger::Recurrence {
                frequency,
                interval,
                schedule,
                time_zone,
                ..
            } => {
                let at = schedule
                    .as_ref()
                    .and_then(|s| Some((s.hours.first()?, s.minutes.first()?)))
                    .map(|(h, m)| format!(" at {h:02}:{m:02}"))
                    .unwrap_or_default();
                let unit = serde_json::to_value(frequency)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("every {interval} {unit}{at} ({time_zone})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn triggers_match_the_reference_key_by_key() {
        let cron = Trigger::Cron {
            expression: "0 6 * * *".into(),
            time_zone: "UTC".into(),
            start_time: None,
            end_time: None,
        };
        assert_eq!(
            serde_json::to_value(&cron).unwrap(),
            json!({"triggerType": "Cron", "expression": "0 6 * * *", "timeZone": "UTC"})
        );
        let every = Trigger::Recurrence {
            frequency: Frequency::Day,
            interval: 1,
            schedule: Some(RecurrenceSchedule {
                hours: vec![6],
                minutes: vec![0],
                week_days: None,
                month_days: None,
            }),
            time_zone: "UTC".into(),
            start_time: None,
            end_time: None,
        };
        assert_eq!(
            serde_json::to_value(&every).unwrap(),
            json!({"triggerType": "Recurrence", "frequency": "day", "interval": 1,
                   "schedule": {"hours": [6], "minutes": [0]}, "timeZone": "UTC"})
        );
        assert_eq!(every.describe(), "every 1 day at 06:00 (UTC)");
        let read: Trigger = serde_json::from_value(json!({"triggerType": "Recurrence",
            "frequency": "Week", "interval": 2, "timeZone": "UTC"}))
        .unwrap();
        assert!(matches!(
            read,
            Trigger::Recurrence {
                frequency: Frequency::Week,
                ..
            }
        ));
    }
}

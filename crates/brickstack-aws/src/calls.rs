//! Counting API calls per operation, with an SDK interceptor (for `--stats` and for tests that
//! check a batched read really is batched).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use crate::AwsClients;

/// Calls made so far, by `service:Operation` (e.g. `s3:HeadBucket`); each operation counts once,
/// however many attempts the SDK's own retries made.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.counts.lock().unwrap().values().sum()
    }

    /// `clients`, each counting its calls here.
    pub(crate) fn instrument(&self, clients: &AwsClients) -> AwsClients {
        macro_rules! counted {
            ($client:expr, $sdk:ident) => {
                $sdk::Client::from_conf(
                    $client
                        .config()
                        .to_builder()
                        .interceptor(self.clone())
                        .build(),
                )
            };
        }
        AwsClients {
            ec2: counted!(clients.ec2, aws_sdk_ec2),
            s3: counted!(clients.s3, aws_sdk_s3),
            kms: counted!(clients.kms, aws_sdk_kms),
            iam: counted!(clients.iam, aws_sdk_iam),
            ssm: counted!(clients.ssm, aws_sdk_ssm),
            dynamodb: counted!(clients.dynamodb, aws_sdk_dynamodb),
            sts: counted!(clients.sts, aws_sdk_sts),
            tagging: counted!(clients.tagging, aws_sdk_resourcegroupstagging),
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "brickstack-call-counter"
    }

    // Not `read_before_execution`: a client's interceptors run that before the operation has put
    // its name in the config bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map_or_else(
            || "unknown".to_string(),
            |m| format!("{}:{}", service_prefix(m.service()), m.name()),
        );
        *self.counts.lock().unwrap().entry(name).or_default() += 1;
        Ok(())
    }
}

/// A service as IAM actions name it (`ec2`, `s3`, `tag`), from the SDK's service name.
fn service_prefix(service: &str) -> String {
    match service {
        "Resource Groups Tagging API" => "tag".to_string(),
        other => other.to_ascii_lowercase().replace(' ', "-"),
    }
}

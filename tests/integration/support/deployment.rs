//! The three deptoken functions as Lambda runs them, in-process, on moto server and the DEP
//! simulator: each function's `Config` parsed from the variables the stack sets, and its
//! services built by its own cold-start code, on a fresh table, fresh KMS keys and a fresh
//! SNS topic. The use cases run on one fixed clock, so that repeated runs see one instant.
//!
//! Also here: an SQS queue subscribed to the topic as a recipient would be, a log of the
//! Publish requests the notifier sends, and DynamoDB stream batches built from the before and
//! after images of entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sns::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sns::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sns::error::BoxError;
use axum::Router;
use chrono::{DateTime, Utc};
use deptoken_api::IdentitySource;
use deptoken_aws::{DynamoStore, SnsNotifier};
use deptoken_dep_sim::{IssueRequest, RunningSimulator};
use deptoken_shared::clock::FixedClock;
use deptoken_shared::domain::{Caller, Role, TenantId};
use deptoken_shared::usecases::{RetryPolicy, Services};
use expiry_sweep::{EmfWriter, SweepFunction};
use serde_json::{Value, json};

use super::moto::{Moto, unique_name};

/// A DynamoDB item as the SDK returns it.
pub type Item = HashMap<String, AttributeValue>;

/// The CloudWatch namespace the deployment configures for the sweep's metrics.
pub const METRICS_NAMESPACE: &str = "deptoken/integration";

/// The portal link the deployment configures for e-mail texts.
pub const PORTAL_URL: &str = "https://portal.example.com/dep-tokens";

/// A deployment of the three functions on moto server and the DEP simulator.
pub struct Deployment {
    pub moto: Moto,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sim: RunningSimulator,
    /// The clock of every function's use cases.
    pub clock: Arc<FixedClock>,
    pub table: String,
    pub topic_arn: String,
    /// Every Publish request of the notifier built by [`Deployment::notifier`].
    pub published: PublishLog,
    variables: HashMap<&'static str, String>,
}

/// A token issued by the simulator, as ABM hands it out.
pub struct Issued {
    pub file: Vec<u8>,
    /// The token's handle in the simulator's control API.
    pub consumer_key: String,
}

impl Deployment {
    /// Creates the table, two KMS keys and the topic in moto and starts the simulator. `None`
    /// when moto is not running (the test is skipped, except in CI where it fails).
    pub async fn start() -> Option<Self> {
        let moto = Moto::connect().await?;
        deptoken_shared::dep::install_crypto_provider();
        let sim = deptoken_dep_sim::start("127.0.0.1:0").await.expect("start the simulator");
        let resources = moto.fresh_config().await;
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config);
        let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config);
        let topic = sns
            .create_topic()
            .name(unique_name("deptoken-notifications"))
            .send()
            .await
            .expect("create the notification topic");
        let topic_arn = topic.topic_arn().expect("CreateTopic returns the ARN").to_owned();

        // The variables the stack sets (infra/template.yaml), with the simulator as Apple.
        let variables = HashMap::from([
            ("DEPTOKEN_TABLE", resources.table_name.clone()),
            ("DEPTOKEN_KEYS_KMS_KEY_ID", resources.keys_kms_key_id.clone()),
            ("DEPTOKEN_CREDENTIALS_KMS_KEY_ID", resources.credentials_kms_key_id.clone()),
            ("DEPTOKEN_TOPIC_ARN", topic_arn.clone()),
            ("DEPTOKEN_TIME_ZONE", "Asia/Tokyo".to_owned()),
            ("DEPTOKEN_DEP_BASE_URL", sim.base_url.clone()),
            ("DEPTOKEN_DEP_TIMEOUT_SECONDS", "5".to_owned()),
            ("DEPTOKEN_SWEEP_CHECK_APPLE", "true".to_owned()),
            ("DEPTOKEN_SWEEP_CONCURRENCY", "8".to_owned()),
            ("DEPTOKEN_METRICS_NAMESPACE", METRICS_NAMESPACE.to_owned()),
            ("DEPTOKEN_NOTIFICATION_LANG", "ja".to_owned()),
            ("DEPTOKEN_PORTAL_URL", PORTAL_URL.to_owned()),
        ]);

        Some(Self {
            sns,
            sqs,
            sim,
            clock: Arc::new(FixedClock::new(Utc::now())),
            table: resources.table_name,
            topic_arn,
            published: PublishLog::default(),
            variables,
            moto,
        })
    }

    fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.variables.get(name).cloned()
    }

    /// Returns `services` running on the deployment's clock.
    fn on_clock(&self, services: &Services) -> Arc<Services> {
        Arc::new(Services {
            clock: self.clock.clone(),
            ..services.clone()
        })
    }

    /// Builds the token-upload function's use cases as at cold start.
    pub fn upload(&self) -> token_upload::UseCases {
        let config = token_upload::Config::from_lookup(self.lookup()).expect("valid token-upload configuration");
        let use_cases = token_upload::build_services_on(&config, &self.moto.sdk_config).expect("build token-upload");
        token_upload::UseCases {
            services: self.on_clock(&use_cases.services),
            subscribers: use_cases.subscribers,
        }
    }

    /// Builds the token-upload function's request handler, with the caller from JWT claims.
    pub fn upload_router(&self) -> Router {
        let use_cases = self.upload();
        deptoken_api::router_with_subscribers(use_cases.services, IdentitySource::JwtClaims, use_cases.subscribers)
    }

    /// Builds the expiry-sweep function as at cold start, with retries that wait milliseconds
    /// and its metrics lines written to the returned buffer instead of standard output.
    pub fn sweep(&self) -> (SweepFunction, Arc<Mutex<Vec<u8>>>) {
        let config = expiry_sweep::Config::from_lookup(self.lookup()).expect("valid expiry-sweep configuration");
        let mut function = expiry_sweep::build_function(&config, &self.moto.sdk_config).expect("build expiry-sweep");
        let buffer = Arc::new(Mutex::new(Vec::new()));

        function.services = self.on_clock(&function.services);
        function.options.retry = RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
        };
        function.metrics = EmfWriter::new(config.metrics_namespace.clone(), buffer.clone());
        (function, buffer)
    }

    /// Builds the notifier function's use cases as at cold start, except that its SNS client
    /// also writes each Publish request to [`Deployment::published`].
    ///
    /// moto's state dump (`/moto-api/data.json`) also contains what was published, but after a
    /// few runs of the suites it took 29 s for 9.5 MB (moto 5.2 on 2 cores), and moto served
    /// no other request meanwhile.
    pub fn notifier(&self) -> Arc<Services> {
        let config = notifier::Config::from_lookup(self.lookup()).expect("valid notifier configuration");
        let services = notifier::build_services(&config, &self.moto.sdk_config).expect("build the notifier");
        let sns_config = aws_sdk_sns::config::Builder::from(&self.moto.sdk_config)
            .interceptor(self.published.clone())
            .build();
        let sns = aws_sdk_sns::Client::from_conf(sns_config);

        Arc::new(Services {
            notifier: Arc::new(SnsNotifier::new(sns, config.topic_arn)),
            clock: self.clock.clone(),
            ..(*services).clone()
        })
    }

    /// Returns the store on the deployment's table.
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.moto.dynamodb.clone(), &self.table)
    }

    /// Issues a token for `certificate_pem` as ABM does, for the MDM server `server_name`
    /// (a new token supersedes the server's previous one), expiring at `expires_at` or in a year.
    pub fn issue(&self, certificate_pem: &str, server_name: &str, expires_at: Option<DateTime<Utc>>) -> Issued {
        let request = IssueRequest {
            server_name: server_name.to_owned(),
            expires_at,
            ..IssueRequest::new(certificate_pem)
        };
        let issued = self.sim.simulator.issue_token(&request).expect("the simulator issues a token");
        Issued {
            file: issued.token_file.into_bytes(),
            consumer_key: issued.consumer_key,
        }
    }

    /// Reads the item of entry `name` of `tenant` raw, with a consistent read.
    pub async fn raw_entry(&self, tenant: &str, name: &str) -> Option<Item> {
        self.moto
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("TENANT#{tenant}")))
            .key("sk", AttributeValue::S(format!("SERVER#{name}")))
            .consistent_read(true)
            .send()
            .await
            .expect("read an entry")
            .item
    }

    /// Creates an SQS queue subscribed to the topic with the filter policy a recipient of
    /// `tenant` gets, and SNS's JSON envelope (raw delivery off), so that the message
    /// attributes arrive with each message.
    pub async fn subscribe_queue(&self, tenant: &str) -> Queue {
        let url = self
            .sqs
            .create_queue()
            .queue_name(unique_name(&format!("recipient-{tenant}")))
            .send()
            .await
            .expect("create a queue")
            .queue_url
            .expect("CreateQueue returns the URL");
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("read the queue ARN");
        let queue_arn = attributes
            .attributes()
            .and_then(|attributes| attributes.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("the queue has an ARN")
            .clone();

        self.sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", "false")
            .attributes("FilterPolicy", json!({"tenant_id": [tenant]}).to_string())
            .attributes("FilterPolicyScope", "MessageAttributes")
            .send()
            .await
            .expect("subscribe the queue");
        Queue {
            sqs: self.sqs.clone(),
            url,
        }
    }
}

/// Returns an admin of `tenant`.
pub fn admin_of(tenant: &str) -> Caller {
    Caller {
        tenant: TenantId::parse(tenant).expect("valid tenant"),
        role: Role::Admin,
        subject: format!("admin@{tenant}.example"),
    }
}

/// Reads SNS message attributes (`{"name": {"Type": "String", "Value": "..."}}`) as name and value.
fn string_attributes(attributes: &Value) -> HashMap<String, String> {
    attributes
        .as_object()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.clone(), value["Value"].as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// One Publish request as the notifier sent it to SNS.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The `MessageStructure=json` message: `default`, `email` and `sms`.
    pub message: Value,
    pub message_structure: String,
    pub subject: String,
    /// The message attributes by name, with their string values.
    pub attributes: HashMap<String, String>,
}

/// The Publish requests an SNS client sent, oldest first, read from the request bodies
/// (the query protocol's form encoding) before they go on the wire.
#[derive(Debug, Clone, Default)]
pub struct PublishLog(Arc<Mutex<Vec<Published>>>);

impl PublishLog {
    pub fn requests(&self) -> Vec<Published> {
        self.0.lock().expect("publish log lock").clone()
    }
}

impl Intercept for PublishLog {
    fn name(&self) -> &'static str {
        "PublishLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        let form: HashMap<String, String> = String::from_utf8_lossy(body)
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (form_decode(name), form_decode(value)))
            .collect();
        if form.get("Action").map(String::as_str) != Some("Publish") {
            return Ok(());
        }

        let field = |name: &str| form.get(name).cloned().unwrap_or_default();
        let attributes = (1..)
            .map_while(|n| {
                let name = form.get(&format!("MessageAttributes.entry.{n}.Name"))?;
                let value = field(&format!("MessageAttributes.entry.{n}.Value.StringValue"));
                Some((name.clone(), value))
            })
            .collect();
        self.0.lock().expect("publish log lock").push(Published {
            message: serde_json::from_str(&field("Message")).unwrap_or(Value::Null),
            message_structure: field("MessageStructure"),
            subject: field("Subject"),
            attributes,
        });
        Ok(())
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// An SQS queue subscribed to the notification topic.
pub struct Queue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

/// One SNS notification as an SQS subscriber receives it (SNS's JSON envelope).
#[derive(Debug, Clone)]
pub struct Envelope {
    pub subject: String,
    /// The `default` message, which protocols without their own key receive.
    pub message: String,
    pub attributes: HashMap<String, String>,
}

impl Queue {
    /// Receives and deletes every message waiting in the queue. moto delivers a publication to
    /// subscribed queues before Publish returns, so nothing is still on its way.
    pub async fn take_all(&self) -> Vec<Envelope> {
        let mut envelopes = Vec::new();
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("receive messages");
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return envelopes;
            }

            for message in messages {
                let body: Value = serde_json::from_str(message.body().unwrap_or_default()).expect("an SNS envelope");
                envelopes.push(Envelope {
                    subject: body["Subject"].as_str().unwrap_or_default().to_owned(),
                    message: body["Message"].as_str().unwrap_or_default().to_owned(),
                    attributes: string_attributes(&body["MessageAttributes"]),
                });
                let receipt = message.receipt_handle().expect("a receipt handle");
                self.sqs
                    .delete_message()
                    .queue_url(&self.url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete a received message");
            }
        }
    }
}

/// DynamoDB stream records of entries, built from the images of their items before and after
/// each change, in the shape of `tests/fixtures/events/dynamodb-stream-batch.json`.
pub struct StreamTap {
    template: Value,
    images: HashMap<(String, String), Item>,
    next_sequence: u64,
}

impl Default for StreamTap {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamTap {
    /// Starts with no image seen, so the first change of each entry is an `INSERT`.
    pub fn new() -> Self {
        let path = format!("{}/fixtures/events/dynamodb-stream-batch.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
        let batch: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"));
        Self {
            template: batch["Records"][0].clone(),
            images: HashMap::new(),
            next_sequence: 1,
        }
    }

    /// Reads the items of the `entries` (tenant, name) and returns one record for each item
    /// that changed since the last call, as the table's stream would carry it.
    pub async fn changes(&mut self, deployment: &Deployment, entries: &[(&str, &str)]) -> Vec<Value> {
        let mut records = Vec::new();
        for (tenant, name) in entries {
            let Some(current) = deployment.raw_entry(tenant, name).await else {
                continue;
            };
            let key = (tenant.to_string(), name.to_string());
            let previous = self.images.get(&key).cloned();
            if previous.as_ref() == Some(&current) {
                continue;
            }

            records.push(self.record(previous.as_ref(), &current));
            self.images.insert(key, current);
        }
        records
    }

    /// Builds one stream record: `INSERT` without an old image, `MODIFY` with one.
    pub fn record(&mut self, old: Option<&Item>, new: &Item) -> Value {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let keys: Item = new
            .iter()
            .filter(|(name, _)| name.as_str() == "pk" || name.as_str() == "sk")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();

        let mut record = self.template.clone();
        record["eventID"] = Value::String(format!("{sequence:032x}"));
        record["eventName"] = Value::String(if old.is_some() { "MODIFY" } else { "INSERT" }.to_owned());
        record["dynamodb"]["SequenceNumber"] = Value::String(format!("{sequence:024}"));
        record["dynamodb"]["Keys"] = image_json(&keys);
        record["dynamodb"]["NewImage"] = image_json(new);
        match old {
            Some(old) => record["dynamodb"]["OldImage"] = image_json(old),
            None => {
                if let Some(fields) = record["dynamodb"].as_object_mut() {
                    fields.remove("OldImage");
                }
            }
        }
        record
    }
}

/// Writes an item in the DynamoDB JSON of stream records (`{"S": ...}`), as `serde_dynamo` does.
pub fn image_json(item: &Item) -> Value {
    let item = serde_dynamo::Item::from(item.clone());
    serde_json::to_value(item).expect("an item is JSON")
}

/// Parses a stream batch of `records` as the Lambda runtime does.
pub fn stream_event(records: &[Value]) -> aws_lambda_events::dynamodb::Event {
    serde_json::from_value(json!({ "Records": records })).expect("a valid DynamoDB stream event")
}

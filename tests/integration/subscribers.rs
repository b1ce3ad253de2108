//! The notification recipients. The `Subscribers` port's contract runs on both back ends: the
//! SQLite store, and SNS on moto server with its index items in DynamoDB. `/v1/subscribers`
//! runs through the local router and through the Lambda router with JWT claims, with
//! validation errors in Japanese and English, roles, and tenant isolation.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use deptoken_api::IdentitySource;
use deptoken_aws::SnsSubscribers;
use deptoken_embedded::SqliteStore;
use deptoken_shared::domain::TenantId;
use deptoken_shared::ports::{SubscriberError, Subscribers};
use deptoken_shared::subscriber::{Contact, SubscriberProtocol};
use deptoken_shared::usecases::SubscriberDirectory;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Harness, admin, reader};
use crate::support::deployment::Deployment;
use crate::support::moto::unique_name;

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("valid tenant")
}

fn contact(protocol: &str, endpoint: &str) -> Contact {
    Contact::parse(protocol, endpoint).expect("valid contact")
}

/// Runs the contract every `Subscribers` adapter keeps, on fresh tenants of `port`.
async fn subscribers_contract(port: &dyn Subscribers) {
    let own = tenant(&unique_name("own"));
    let other = tenant(&unique_name("other"));

    let phone = port.add_subscriber(&own, &contact("sms", "+81 90-1234-5678")).await.expect("add a phone number");
    let email = port.add_subscriber(&own, &contact("email", "IT@Example.JP")).await.expect("add an address");
    let again = port.add_subscriber(&own, &contact("email", "IT@example.jp")).await.expect("add the address again");
    let listed = port.list_subscribers(&own).await.expect("list");
    let listed_by_other = port.list_subscribers(&other).await.expect("list another tenant");
    let removed_by_other = port.remove_subscriber(&other, &email.id).await;
    let listed_after_other = port.list_subscribers(&own).await.expect("list after the other tenant's removal");

    assert_eq!(phone.endpoint, "+819012345678");
    assert_eq!(phone.protocol, SubscriberProtocol::Sms);
    assert_eq!(email.endpoint, "IT@example.jp");
    assert_eq!(again.id, email.id, "the same address is one subscriber");
    assert_eq!(listed.iter().map(|s| s.endpoint.as_str()).collect::<Vec<_>>(), ["IT@example.jp", "+819012345678"]);
    assert!(listed_by_other.is_empty(), "{listed_by_other:?}");
    assert!(matches!(removed_by_other, Err(SubscriberError::NotFound)), "{removed_by_other:?}");
    assert_eq!(listed_after_other.len(), 2);

    let removed = port.remove_subscriber(&own, &email.id).await;
    let removed_again = port.remove_subscriber(&own, &email.id).await;
    let remaining = port.list_subscribers(&own).await.expect("list after the removal");

    assert!(removed.is_ok(), "{removed:?}");
    assert!(matches!(removed_again, Err(SubscriberError::NotFound)), "{removed_again:?}");
    assert_eq!(remaining.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), [phone.id]);
}

#[tokio::test]
async fn sqlite_subscribers_contract() {
    let store = SqliteStore::in_memory().expect("open the SQLite store");

    subscribers_contract(&store).await;
}

#[tokio::test]
async fn sns_subscribers_contract() {
    let Some(deployment) = Deployment::start().await else { return };
    let port = SnsSubscribers::new(deployment.sns.clone(), deployment.moto.dynamodb.clone(), &deployment.table, &deployment.topic_arn);

    subscribers_contract(&port).await;
}

#[tokio::test]
async fn sns_subscription_has_tenant_filter() {
    let Some(deployment) = Deployment::start().await else { return };
    let port = SnsSubscribers::new(deployment.sns.clone(), deployment.moto.dynamodb.clone(), &deployment.table, &deployment.topic_arn);
    let acme = tenant("acme");

    let added = port.add_subscriber(&acme, &contact("email", "it@acme.example")).await.expect("add");
    let attributes = deployment
        .sns
        .get_subscription_attributes()
        .subscription_arn(format!("{}:{}", deployment.topic_arn, added.id))
        .send()
        .await
        .expect("the subscription exists under topic ARN and id");

    let attributes = attributes.attributes().cloned().unwrap_or_default();
    let filter_policy: Value = serde_json::from_str(attributes.get("FilterPolicy").map_or("null", String::as_str)).expect("JSON");
    assert_eq!(filter_policy, json!({"tenant_id": ["acme"]}));
    assert_eq!(attributes.get("FilterPolicyScope").map(String::as_str), Some("MessageAttributes"));
    assert_eq!(attributes.get("Protocol").map(String::as_str), Some("email"));
    assert_eq!(attributes.get("Endpoint").map(String::as_str), Some("it@acme.example"));
}

#[tokio::test]
async fn sns_unsubscribed_recipient_is_listed_so() {
    let Some(deployment) = Deployment::start().await else { return };
    let port = SnsSubscribers::new(deployment.sns.clone(), deployment.moto.dynamodb.clone(), &deployment.table, &deployment.topic_arn);
    let acme = tenant("acme");
    let added = port.add_subscriber(&acme, &contact("email", "gone@acme.example")).await.expect("add");
    // The recipient follows the unsubscribe link of a message: SNS deletes the subscription.
    deployment
        .sns
        .unsubscribe()
        .subscription_arn(format!("{}:{}", deployment.topic_arn, added.id))
        .send()
        .await
        .expect("unsubscribe in SNS");

    let listed = port.list_subscribers(&acme).await.expect("list");
    let removed = port.remove_subscriber(&acme, &added.id).await;
    let listed_after = port.list_subscribers(&acme).await.expect("list after the removal");

    assert_eq!(serde_json::to_value(listed[0].status).ok(), Some(json!("unsubscribed")));
    assert!(removed.is_ok(), "{removed:?}");
    assert!(listed_after.is_empty(), "{listed_after:?}");
}

/// A response: status, `Content-Language` and JSON body (`null` when empty).
struct Answer {
    status: u16,
    language: String,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("the router responds");
    let status = response.status().as_u16();
    let language = response
        .headers()
        .get(header::CONTENT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.into_body().collect().await.expect("read the body").to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("a JSON body") };
    Answer { status, language, body }
}

fn local_request(method: Method, uri: &str, body: Option<Value>, language: &str) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT_LANGUAGE, language)
        .header(header::CONTENT_TYPE, "application/json");
    let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
    builder.body(body).expect("a request")
}

/// Builds the local runner's API on the harness with recipients in its SQLite store.
fn local_app(harness: &Harness, caller: deptoken_shared::domain::Caller) -> Router {
    deptoken_api::router_with_subscribers(
        harness.services.clone(),
        IdentitySource::Fixed(caller),
        SubscriberDirectory::new(harness.store.clone()),
    )
}

#[tokio::test]
async fn local_subscribers_add_list_remove() {
    let harness = Harness::start().await;
    let app = local_app(&harness, admin());

    let added = send(
        &app,
        local_request(Method::POST, "/v1/subscribers", Some(json!({"protocol": "sms", "endpoint": "+81 90-1234-5678"})), "ja"),
    )
    .await;
    let id = added.body["id"].as_str().unwrap_or_default().to_owned();
    let listed = send(&app, local_request(Method::GET, "/v1/subscribers", None, "ja")).await;
    let removed = send(&app, local_request(Method::DELETE, &format!("/v1/subscribers/{id}"), None, "ja")).await;
    let removed_again = send(&app, local_request(Method::DELETE, &format!("/v1/subscribers/{id}"), None, "en")).await;
    let listed_after = send(&app, local_request(Method::GET, "/v1/subscribers", None, "ja")).await;

    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.body,
        json!({"id": id, "protocol": "sms", "endpoint": "+819012345678", "status": "confirmed"})
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body, json!({"subscribers": [added.body.clone()]}));
    assert_eq!(removed.status, 204);
    assert_eq!(removed.body, Value::Null);
    assert_eq!(removed_again.status, 404);
    assert_eq!(removed_again.code(), "not_found");
    assert_eq!(removed_again.body["error"]["message"], "No recipient with this id is registered.");
    assert_eq!(listed_after.body, json!({"subscribers": []}));
}

#[tokio::test]
async fn local_subscribers_validation_errors() {
    let harness = Harness::start().await;
    let app = local_app(&harness, admin());
    let cases = [
        ("domestic phone number, Japanese", json!({"protocol": "sms", "endpoint": "090-1234-5678"}), "ja", "endpoint", "「endpoint」"),
        ("address without domain, English", json!({"protocol": "email", "endpoint": "it-admin"}), "en", "endpoint", "\"endpoint\""),
        ("address too long, Japanese", json!({"protocol": "email", "endpoint": format!("{}@example.com", "a".repeat(250))}), "ja", "endpoint", "「endpoint」"),
        ("unknown protocol, English", json!({"protocol": "fax", "endpoint": "+81312345678"}), "en", "protocol", "\"protocol\""),
        ("unknown protocol, Japanese", json!({"protocol": "line", "endpoint": "+81312345678"}), "ja", "protocol", "「protocol」"),
    ];

    for (label, body, language, field, quoted_field) in cases {
        let answer = send(&app, local_request(Method::POST, "/v1/subscribers", Some(body), language)).await;

        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        let action = answer.body["error"]["action"].as_str().unwrap_or_default();
        assert_eq!(answer.status, 400, "{label}: {}", answer.body);
        assert_eq!(answer.code(), "invalid_request", "{label}");
        assert_eq!(answer.language, language, "{label}");
        assert!(message.contains(quoted_field), "{label}: {message}");
        if field == "endpoint" {
            assert!(action.contains("+819012345678"), "{label}: {action}");
        }
    }
}

#[tokio::test]
async fn local_subscribers_reject_bad_bodies() {
    let harness = Harness::start().await;
    let app = local_app(&harness, admin());
    let cases = [
        ("missing endpoint", json!({"protocol": "email"})),
        ("unknown field", json!({"protocol": "email", "endpoint": "it@example.jp", "tenant_id": "globex"})),
        ("endpoint not a string", json!({"protocol": "sms", "endpoint": 819012345678u64})),
    ];

    for (label, body) in cases {
        let answer = send(&app, local_request(Method::POST, "/v1/subscribers", Some(body), "ja")).await;

        assert_eq!(answer.status, 400, "{label}: {}", answer.body);
        assert_eq!(answer.code(), "invalid_request", "{label}");
    }
}

#[tokio::test]
async fn local_subscribers_reader_only_lists() {
    let harness = Harness::start().await;
    let as_admin = local_app(&harness, admin());
    let as_reader = local_app(&harness, reader());
    let added = send(
        &as_admin,
        local_request(Method::POST, "/v1/subscribers", Some(json!({"protocol": "email", "endpoint": "it@acme.example"})), "ja"),
    )
    .await;
    let id = added.body["id"].as_str().unwrap_or_default().to_owned();

    let listed = send(&as_reader, local_request(Method::GET, "/v1/subscribers", None, "ja")).await;
    let add = send(
        &as_reader,
        local_request(Method::POST, "/v1/subscribers", Some(json!({"protocol": "email", "endpoint": "x@acme.example"})), "ja"),
    )
    .await;
    let remove = send(&as_reader, local_request(Method::DELETE, &format!("/v1/subscribers/{id}"), None, "ja")).await;

    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["subscribers"].as_array().map(Vec::len), Some(1));
    assert_eq!(add.status, 403);
    assert_eq!(add.code(), "forbidden");
    assert_eq!(remove.status, 403);
    assert_eq!(remove.code(), "forbidden");
}

/// Reads the API Gateway fixture event `name`.
fn apigw_fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/apigw/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

/// Makes `event` come from tenant `tenant`'s admin, in `language`.
fn as_tenant(mut event: Value, tenant: &str, language: &str) -> Value {
    event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] = Value::String(tenant.to_owned());
    event["headers"]["accept-language"] = Value::String(language.to_owned());
    event
}

fn with_body(mut event: Value, body: &Value) -> Value {
    event["body"] = Value::String(body.to_string());
    event
}

fn removal_of(id: &str, tenant: &str) -> Value {
    let mut event = as_tenant(apigw_fixture("remove-subscriber.json"), tenant, "ja");
    let path = format!("/v1/subscribers/{id}");
    event["rawPath"] = Value::String(path.clone());
    event["requestContext"]["http"]["path"] = Value::String(path);
    event
}

/// Deserialises `event` as the Lambda runtime does and sends it through `app`.
async fn invoke(app: &Router, event: &Value) -> Answer {
    let request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    send(app, request.map(Body::new)).await
}

#[tokio::test]
async fn lambda_subscribers_isolate_tenants() {
    let Some(deployment) = Deployment::start().await else { return };
    let app = deployment.upload_router();
    let acme_address = json!({"protocol": "email", "endpoint": "it-admin@acme.example"});
    let globex_phone = json!({"protocol": "sms", "endpoint": "+81 80-1111-2222"});

    let acme_added = invoke(&app, &with_body(as_tenant(apigw_fixture("add-subscriber.json"), "acme", "ja"), &acme_address)).await;
    let globex_added = invoke(&app, &with_body(as_tenant(apigw_fixture("add-subscriber.json"), "globex", "ja"), &globex_phone)).await;
    let acme_id = acme_added.body["id"].as_str().unwrap_or_default().to_owned();
    let globex_id = globex_added.body["id"].as_str().unwrap_or_default().to_owned();
    let acme_list = invoke(&app, &as_tenant(apigw_fixture("list-subscribers.json"), "acme", "ja")).await;
    let globex_list = invoke(&app, &as_tenant(apigw_fixture("list-subscribers.json"), "globex", "ja")).await;
    let globex_removes_acme = invoke(&app, &removal_of(&acme_id, "globex")).await;
    let missing_removal = invoke(&app, &removal_of("0673d287-1899-42cf-9e16-f2aea1ce7ecb", "globex")).await;
    let acme_list_after = invoke(&app, &as_tenant(apigw_fixture("list-subscribers.json"), "acme", "ja")).await;
    let acme_removes_own = invoke(&app, &removal_of(&acme_id, "acme")).await;
    let globex_list_after = invoke(&app, &as_tenant(apigw_fixture("list-subscribers.json"), "globex", "ja")).await;

    assert_eq!(acme_added.status, 201, "{}", acme_added.body);
    assert_eq!(globex_added.status, 201, "{}", globex_added.body);
    assert_eq!(globex_added.body["endpoint"], "+818011112222");
    assert_eq!(acme_list.body["subscribers"].as_array().map(Vec::len), Some(1));
    assert_eq!(acme_list.body["subscribers"][0]["id"], Value::String(acme_id.clone()));
    assert_eq!(globex_list.body["subscribers"].as_array().map(Vec::len), Some(1));
    assert_eq!(globex_list.body["subscribers"][0]["id"], Value::String(globex_id));
    assert_eq!(globex_removes_acme.status, 404, "{}", globex_removes_acme.body);
    assert_eq!(globex_removes_acme.body, missing_removal.body, "another tenant's id reads as a missing one");
    assert_eq!(globex_removes_acme.body["error"]["message"], "指定された通知先は登録されていません。");
    assert_eq!(acme_list_after.body, acme_list.body, "acme's recipient is untouched");
    assert_eq!(acme_removes_own.status, 204, "{}", acme_removes_own.body);
    assert_eq!(globex_list_after.body["subscribers"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn lambda_subscribers_validation_errors() {
    let Some(deployment) = Deployment::start().await else { return };
    let app = deployment.upload_router();
    let cases = [
        ("Japanese", "ja", json!({"protocol": "sms", "endpoint": "+81 090-1234-5678"}), "リクエストの項目「endpoint」が指定されていないか、正しくありません。"),
        ("English", "en-US,en;q=0.9", json!({"protocol": "email", "endpoint": "admin@localhost"}), "The request field \"endpoint\" is missing or invalid."),
    ];

    for (label, language, body, expected) in cases {
        let event = with_body(as_tenant(apigw_fixture("add-subscriber.json"), "acme", language), &body);

        let answer = invoke(&app, &event).await;

        assert_eq!(answer.status, 400, "{label}: {}", answer.body);
        assert_eq!(answer.code(), "invalid_request", "{label}");
        assert_eq!(answer.body["error"]["message"], expected, "{label}");
    }
    let subscriptions = deployment.sns.list_subscriptions_by_topic().topic_arn(&deployment.topic_arn).send().await;
    assert_eq!(subscriptions.map(|page| page.subscriptions().len()).ok(), Some(0), "nothing reached SNS");
}

#[tokio::test]
async fn lambda_subscribers_reader_cannot_add() {
    let Some(deployment) = Deployment::start().await else { return };
    let app = deployment.upload_router();
    let mut event = as_tenant(apigw_fixture("add-subscriber.json"), "acme", "en");
    event["requestContext"]["authorizer"]["jwt"]["claims"]["deptoken_role"] = Value::String("reader".to_owned());

    let answer = invoke(&app, &event).await;

    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.code(), "forbidden");
}

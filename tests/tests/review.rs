//! End-to-end: review diagnostics through the real `tandem serve`.

use serde_json::{json, Value};
use tandem_e2e::{examples_shop, file_uri, LspClient};

fn diagnostics_with(client: &mut LspClient, uri: &str, code: &str) -> Vec<Value> {
    let published = client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == code))
    });
    published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn project_rules_arrive_once_the_index_is_built() {
    let shop = examples_shop();
    let mut client = LspClient::start_in(&shop, &[]);
    client.initialize(json!({}), Some(&shop), Value::Null);
    let orders = shop.join("src/shop/orders.py");
    let utils = shop.join("src/shop/utils.py");
    let (orders_uri, utils_uri) = (file_uri(&orders), file_uri(&utils));
    client.open(&orders_uri, &std::fs::read_to_string(&orders).unwrap());
    client.open(&utils_uri, &std::fs::read_to_string(&utils).unwrap());
    let found = diagnostics_with(&mut client, &orders_uri, "TDM021");
    let call = found.iter().find(|d| d["code"] == "TDM021").unwrap();
    assert_eq!(call["range"]["start"]["line"], 123, "{call}");
    assert!(
        call["message"]
            .as_str()
            .unwrap()
            .contains("missing `quantity`"),
        "{call}"
    );
    assert_eq!(call["severity"], 1);
    let found = diagnostics_with(&mut client, &utils_uri, "TDM020");
    let unused: Vec<&str> = found
        .iter()
        .filter(|d| d["code"] == "TDM020")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].contains("`slugify`"), "{unused:?}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

//! A tray host for tests: owns `org.kde.StatusNotifierWatcher` on the harness's private session
//! bus, as a desktop's panel does, takes the app's StatusNotifierItem registration, and reads
//! and clicks its menu over `com.canonical.dbusmenu`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Value};

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Items registered so far: (the item's unique bus name, its object path).
type Items = Arc<Mutex<Vec<(String, String)>>>;

struct Watcher {
    items: Items,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // The argument is a bus name or, as libappindicator sends, an object path.
        let (bus, path) = if service.starts_with('/') {
            (sender, service.to_owned())
        } else {
            (service.to_owned(), "/StatusNotifierItem".to_owned())
        };
        let full = format!("{bus}{path}");
        self.items.lock().unwrap().push((bus, path));
        let _ = Self::status_notifier_item_registered(&emitter, &full).await;
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        let items = self.items.lock().unwrap();
        items.iter().map(|(b, p)| format!("{b}{p}")).collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// One menu entry as dbusmenu lays it out.
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    pub children: Vec<MenuEntry>,
}

impl MenuEntry {
    /// This entry and every one under it, depth first.
    pub fn flatten(&self) -> Vec<&MenuEntry> {
        let mut all = vec![self];
        for c in &self.children {
            all.extend(c.flatten());
        }
        all
    }

    /// The first entry whose label (without mnemonic underscores) contains `text`.
    pub fn find(&self, text: &str) -> Option<&MenuEntry> {
        self.flatten().into_iter().find(|e| e.label.contains(text))
    }
}

/// The test's tray host on the private session bus.
pub struct TrayHost {
    conn: zbus::Connection,
    items: Items,
}

impl TrayHost {
    /// Claims the watcher's name; fails when another host has it.
    pub async fn start() -> TrayHost {
        let items: Items = Arc::default();
        // The previous test's host may still be letting go of the name: retry for a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let built = zbus::connection::Builder::session()
                .unwrap()
                .name(WATCHER)
                .unwrap()
                .serve_at(
                    "/StatusNotifierWatcher",
                    Watcher {
                        items: items.clone(),
                    },
                )
                .unwrap()
                .build()
                .await;
            match built {
                Ok(conn) => return TrayHost { conn, items },
                Err(e) if Instant::now() > deadline => {
                    panic!("could not own {WATCHER} on the private session bus: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Waits for the app's item to register; returns (bus name, object path).
    pub async fn item(&self, within: Duration) -> (String, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(last) = self.items.lock().unwrap().last().cloned() {
                return last;
            }
            assert!(
                Instant::now() < deadline,
                "no StatusNotifierItem registered with the tray host within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an item registered by another connection than `old`'s (the same process
    /// after it changed program: the resident's tray, or the window's again).
    pub async fn item_after(&self, old: &(String, String), within: Duration) -> (String, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(last) = self.items.lock().unwrap().last().cloned() {
                if last.0 != old.0 {
                    return last;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no new StatusNotifierItem registered with the tray host within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A property of the item (`org.kde.StatusNotifierItem`).
    pub async fn item_property(&self, item: &(String, String), name: &str) -> OwnedValue {
        let proxy = zbus::Proxy::new(
            &self.conn,
            item.0.as_str(),
            item.1.as_str(),
            "org.kde.StatusNotifierItem",
        )
        .await
        .unwrap();
        proxy
            .get_property::<OwnedValue>(name)
            .await
            .unwrap_or_else(|e| panic!("the item's {name}: {e}"))
    }

    async fn menu_proxy(&self, item: &(String, String)) -> zbus::Proxy<'static> {
        let path = self.item_property(item, "Menu").await;
        let path: zbus::zvariant::OwnedObjectPath =
            path.try_into().expect("Menu is an object path");
        zbus::Proxy::new(&self.conn, item.0.clone(), path, "com.canonical.dbusmenu")
            .await
            .unwrap()
    }

    /// The item's whole menu (`GetLayout` from the root, every level).
    pub async fn menu(&self, item: &(String, String)) -> MenuEntry {
        let proxy = self.menu_proxy(item).await;
        // Menus are built lazily by some toolkits: say they are about to be shown first.
        let _: Result<bool, _> = proxy.call("AboutToShow", &(0i32,)).await;
        let (_revision, (id, props, children)): (u32, Layout) = proxy
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .expect("GetLayout");
        make_entry(id, &props, children.iter().map(|c| entry(c)).collect())
    }

    /// Clicks the entry whose label contains `text`, as a person would in the panel.
    pub async fn click(&self, item: &(String, String), text: &str) {
        let menu = self.menu(item).await;
        let id = menu
            .find(text)
            .unwrap_or_else(|| panic!("no menu entry {text:?} in {:#?}", labels(&menu)))
            .id;
        let proxy = self.menu_proxy(item).await;
        let stamp = 0u32;
        let () = proxy
            .call("Event", &(id, "clicked", Value::from(0i32), stamp))
            .await
            .expect("dbusmenu Event clicked");
    }
}

/// Every label of the menu, for failure messages.
pub fn labels(menu: &MenuEntry) -> Vec<String> {
    menu.flatten().iter().map(|e| e.label.clone()).collect()
}

/// A dbusmenu layout entry: id, properties, children (each a variant holding an entry).
type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

fn make_entry(id: i32, props: &HashMap<String, OwnedValue>, children: Vec<MenuEntry>) -> MenuEntry {
    let label = props
        .get("label")
        .and_then(|v| String::try_from(v.try_clone().unwrap()).ok())
        .unwrap_or_default();
    // dbusmenu labels mark a mnemonic with _ and write the character itself as __.
    let label = label
        .replace("__", "\u{0}")
        .replace('_', "")
        .replace('\u{0}', "_");
    let enabled = props
        .get("enabled")
        .and_then(|v| bool::try_from(v.try_clone().unwrap()).ok())
        .unwrap_or(true);
    MenuEntry {
        id,
        label,
        enabled,
        children,
    }
}

fn entry(v: &Value<'_>) -> MenuEntry {
    let v = match v {
        Value::Value(inner) => inner.as_ref(),
        other => other,
    };
    let Value::Structure(s) = v else {
        panic!("a dbusmenu layout entry is (ia{{sv}}av), not {v:?}");
    };
    let fields = s.fields();
    let id = match &fields[0] {
        Value::I32(i) => *i,
        other => panic!("entry id {other:?}"),
    };
    let props: HashMap<String, OwnedValue> = match &fields[1] {
        Value::Dict(d) => d.try_clone().unwrap().try_into().unwrap(),
        other => panic!("entry properties {other:?}"),
    };
    let children = match &fields[2] {
        Value::Array(a) => a.iter().map(entry).collect(),
        other => panic!("entry children {other:?}"),
    };
    make_entry(id, &props, children)
}

//! The demo's hand-written data: a provider's catalog, six holders and the
//! past demands that build their reputations.

/// How a product's pass is issued.
#[derive(Debug, Clone, Copy)]
pub enum PassPlan {
    /// Any number of holders may offer it; commission in basis points.
    Shareable { commission_bps: i64 },
    /// A limited run of numbered units; commission in basis points.
    Unique { units: i64, commission_bps: i64 },
}

/// One product of the provider's catalog.
#[derive(Debug)]
pub struct Item {
    /// Short handle the demo refers to the product by.
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub specs: &'static [(&'static str, &'static str)],
    /// USD, decimal string.
    pub price: &'static str,
    pub stock: i64,
    pub pass: PassPlan,
}

use PassPlan::{Shareable, Unique};

pub const PROVIDER_NAME: &str = "Nimbus Goods 云端优选";

pub const CATALOG: &[Item] = &[
    // ------------------------------------------------------------ audio
    Item {
        key: "sony-xm5",
        title: "索尼 Sony WH-1000XM5 无线降噪耳机",
        description: "Industry-leading noise cancelling over-ear headphones with eight microphones, 30-hour battery and multipoint Bluetooth. 头戴式蓝牙降噪耳机，30 小时续航。",
        category: "electronics/audio/headphones",
        specs: &[("battery", "30 h"), ("colour", "black"), ("weight", "250 g"), ("codec", "LDAC, AAC, SBC")],
        price: "399.99",
        stock: 120,
        pass: Shareable { commission_bps: 800 },
    },
    Item {
        key: "bose-qcu",
        title: "Bose QuietComfort Ultra Headphones",
        description: "Spatial audio and world-class noise cancelling in a plush over-ear design. 旗舰级头戴降噪耳机。",
        category: "electronics/audio/headphones",
        specs: &[("battery", "24 h"), ("colour", "sandstone"), ("weight", "254 g")],
        price: "429.00",
        stock: 60,
        pass: Shareable { commission_bps: 700 },
    },
    Item {
        key: "sennheiser-hd600",
        title: "Sennheiser HD 600 Headphones",
        description: "Reference open-back dynamic headphones for critical listening at home or in the studio.",
        category: "electronics/audio/headphones",
        specs: &[("impedance", "300 Ω"), ("connector", "6.3 mm / 3.5 mm"), ("weight", "260 g")],
        price: "349.00",
        stock: 25,
        pass: Shareable { commission_bps: 900 },
    },
    Item {
        key: "airpods-pro2",
        title: "Apple AirPods Pro 2 (USB-C)",
        description: "Wireless earbuds with active noise cancellation, adaptive audio and a MagSafe USB-C charging case.",
        category: "electronics/audio/earbuds",
        specs: &[("battery", "6 h (30 h with case)"), ("water resistance", "IP54")],
        price: "249.00",
        stock: 200,
        pass: Shareable { commission_bps: 500 },
    },
    Item {
        key: "freebuds-pro3",
        title: "华为 FreeBuds Pro 3 真无线降噪耳机",
        description: "入耳式真无线耳机，智慧动态降噪，星闪连接。True wireless earbuds with intelligent noise cancellation.",
        category: "electronics/audio/earbuds",
        specs: &[("battery", "6.5 h (31 h with case)"), ("colour", "陶瓷白 ceramic white")],
        price: "179.00",
        stock: 150,
        pass: Shareable { commission_bps: 1000 },
    },
    Item {
        key: "jbl-charge5",
        title: "JBL Charge 5 Bluetooth Speaker",
        description: "Waterproof portable speaker with 20 hours of playtime and a built-in power bank.",
        category: "electronics/audio/speakers",
        specs: &[("battery", "20 h"), ("water resistance", "IP67")],
        price: "179.95",
        stock: 80,
        pass: Shareable { commission_bps: 900 },
    },
    // ------------------------------------------------------------ computing
    Item {
        key: "keychron-k2",
        title: "Keychron K2 Pro Mechanical Keyboard",
        description: "Compact 75% hot-swappable mechanical keyboard, QMK/VIA programmable, Bluetooth and USB-C.",
        category: "electronics/computing/keyboards",
        specs: &[("switches", "Gateron G Pro Brown"), ("layout", "75% ANSI"), ("backlight", "RGB")],
        price: "109.00",
        stock: 90,
        pass: Shareable { commission_bps: 1100 },
    },
    Item {
        key: "mx-master3s",
        title: "罗技 Logitech MX Master 3S 无线鼠标",
        description: "Quiet-click ergonomic wireless mouse with an 8K DPI sensor. 静音人体工学无线鼠标。",
        category: "electronics/computing/mice",
        specs: &[("sensor", "8000 DPI"), ("connection", "Bluetooth, Logi Bolt")],
        price: "99.99",
        stock: 140,
        pass: Shareable { commission_bps: 1000 },
    },
    Item {
        key: "dell-u2723qe",
        title: "Dell UltraSharp U2723QE 27\" 4K Monitor",
        description: "27-inch 4K IPS Black monitor with a 90 W USB-C hub, ideal for a one-cable desk.",
        category: "electronics/computing/monitors",
        specs: &[("resolution", "3840 × 2160"), ("panel", "IPS Black"), ("usb-c power", "90 W")],
        price: "579.99",
        stock: 12,
        pass: Unique { units: 6, commission_bps: 600 },
    },
    Item {
        key: "samsung-t7",
        title: "Samsung T7 Shield 2TB Portable SSD",
        description: "Rugged portable SSD, up to 1,050 MB/s over USB 3.2 Gen 2.",
        category: "electronics/computing/storage",
        specs: &[("capacity", "2 TB"), ("interface", "USB 3.2 Gen 2 (USB-C)")],
        price: "159.99",
        stock: 75,
        pass: Shareable { commission_bps: 700 },
    },
    Item {
        key: "tplink-ax55",
        title: "TP-Link Archer AX55 Wi-Fi 6 Router",
        description: "Dual-band AX3000 Wi-Fi 6 router with OneMesh support. 双频千兆 WiFi 6 无线路由器。",
        category: "electronics/networking/routers",
        specs: &[("standard", "Wi-Fi 6 (802.11ax)"), ("speed", "AX3000"), ("ports", "4 × gigabit LAN")],
        price: "129.99",
        stock: 110,
        pass: Shareable { commission_bps: 900 },
    },
    // ------------------------------------------------------------ mobile
    Item {
        key: "matepad-115",
        title: "华为 HUAWEI MatePad 11.5 平板电脑",
        description: "11.5 英寸 120 Hz 护眼全面屏，轻薄办公学习平板。11.5-inch 120 Hz tablet for study and work.",
        category: "electronics/mobile/tablets",
        specs: &[("screen", "11.5\" 2.2K 120 Hz"), ("storage", "8 GB + 256 GB")],
        price: "349.00",
        stock: 50,
        pass: Shareable { commission_bps: 800 },
    },
    Item {
        key: "ipad-air",
        title: "Apple iPad Air 11\" (M2)",
        description: "Tablet with a Liquid Retina display, M2 chip, Touch ID and Apple Pencil Pro support.",
        category: "electronics/mobile/tablets",
        specs: &[("chip", "Apple M2"), ("storage", "128 GB"), ("colour", "space grey")],
        price: "599.00",
        stock: 30,
        pass: Unique { units: 6, commission_bps: 500 },
    },
    Item {
        key: "xiaomi-14",
        title: "小米 Xiaomi 14 智能手机 12GB+256GB",
        description: "徕卡光学镜头，骁龙 8 Gen 3。Leica optics, Snapdragon 8 Gen 3 smartphone.",
        category: "electronics/mobile/phones",
        specs: &[("ram", "12 GB"), ("storage", "256 GB"), ("camera", "Leica 50 MP")],
        price: "699.00",
        stock: 40,
        pass: Shareable { commission_bps: 600 },
    },
    Item {
        key: "anker-65w",
        title: "Anker Nano 65W USB-C 氮化镓充电器",
        description: "Compact GaN USB-C charger, 65 W for laptops, tablets and phones. 三口快充。",
        category: "electronics/mobile/chargers",
        specs: &[("output", "65 W"), ("ports", "2 × USB-C, 1 × USB-A")],
        price: "45.99",
        stock: 300,
        pass: Shareable { commission_bps: 1200 },
    },
    Item {
        key: "kindle-pw",
        title: "Kindle Paperwhite 16 GB 电子书阅读器",
        description: "E-reader with a 7-inch glare-free display, adjustable warm light and weeks of battery life.",
        category: "electronics/mobile/e-readers",
        specs: &[("screen", "7\" 300 ppi"), ("storage", "16 GB"), ("water resistance", "IPX8")],
        price: "159.99",
        stock: 100,
        pass: Shareable { commission_bps: 800 },
    },
    // ------------------------------------------------------------ kitchen and home
    Item {
        key: "mijia-ricecooker",
        title: "小米 米家 智能电饭煲 Rice Cooker 4L",
        description: "IH 电磁加热，App 预约。Induction heating rice cooker with app scheduling.",
        category: "home/kitchen/rice-cookers",
        specs: &[("capacity", "4 L"), ("heating", "IH induction")],
        price: "89.00",
        stock: 70,
        pass: Shareable { commission_bps: 1000 },
    },
    Item {
        key: "breville-bambino",
        title: "Breville Bambino Plus Espresso Machine",
        description: "Compact espresso machine with 3-second heat-up and automatic milk texturing. 意式咖啡机。",
        category: "home/kitchen/coffee",
        specs: &[("pump", "15 bar"), ("water tank", "1.9 L"), ("colour", "brushed stainless steel")],
        price: "499.95",
        stock: 15,
        pass: Unique { units: 8, commission_bps: 700 },
    },
    Item {
        key: "stagg-ekg",
        title: "Fellow Stagg EKG 电热手冲壶 Kettle",
        description: "Electric precision pour-over kettle with variable temperature control and hold mode.",
        category: "home/kitchen/kettles",
        specs: &[("capacity", "0.9 L"), ("temperature", "57–100 °C")],
        price: "165.00",
        stock: 45,
        pass: Shareable { commission_bps: 900 },
    },
    Item {
        key: "lodge-skillet",
        title: "Lodge 10.25\" Cast Iron Skillet 铸铁煎锅",
        description: "Pre-seasoned cast iron skillet for stovetop, oven and campfire.",
        category: "home/kitchen/cookware",
        specs: &[("diameter", "26 cm"), ("material", "cast iron")],
        price: "29.90",
        stock: 250,
        pass: Shareable { commission_bps: 1200 },
    },
    Item {
        key: "zojirushi-mug",
        title: "象印 Zojirushi 保温杯 Travel Mug 480 ml",
        description: "Vacuum-insulated stainless steel travel mug keeps drinks hot or cold for hours. 真空保温保冷。",
        category: "home/kitchen/drinkware",
        specs: &[("capacity", "480 ml"), ("material", "stainless steel")],
        price: "32.00",
        stock: 400,
        pass: Shareable { commission_bps: 1100 },
    },
    Item {
        key: "dyson-v12",
        title: "戴森 Dyson V12 Detect Slim 无绳吸尘器",
        description: "Cordless vacuum with laser dust detection and a piezo sensor that counts particles. 激光探测微尘。",
        category: "home/cleaning/vacuums",
        specs: &[("runtime", "60 min"), ("weight", "2.2 kg")],
        price: "649.99",
        stock: 20,
        pass: Unique { units: 10, commission_bps: 500 },
    },
    Item {
        key: "hue-starter",
        title: "Philips Hue White & Color Starter Kit",
        description: "Smart lighting starter kit: three E27 bulbs and the Hue Bridge. 智能灯泡套装。",
        category: "home/lighting/smart",
        specs: &[("bulbs", "3 × E27, 1100 lm"), ("protocol", "Zigbee, Bluetooth")],
        price: "199.99",
        stock: 65,
        pass: Shareable { commission_bps: 1000 },
    },
];

/// A holder of the demo, with the passes the provider grants it.
#[derive(Debug)]
pub struct HolderPlan {
    pub key: &'static str,
    pub name: &'static str,
    pub persona: &'static str,
    pub fields: &'static [&'static str],
    /// Product keys and, for unique passes, units granted.
    pub grants: &'static [(&'static str, Option<i64>)],
    /// Joins after the history: a newcomer without any interaction.
    pub newcomer: bool,
}

pub const HOLDERS: &[HolderPlan] = &[
    HolderPlan {
        key: "aiko",
        name: "Aiko Tanaka",
        persona: "audio specialist",
        fields: &["electronics/audio"],
        grants: &[
            ("sony-xm5", None),
            ("bose-qcu", None),
            ("sennheiser-hd600", None),
            ("airpods-pro2", None),
            ("freebuds-pro3", None),
            ("jbl-charge5", None),
        ],
        newcomer: false,
    },
    HolderPlan {
        key: "bao",
        name: "包小厨 Bao Xiaochu",
        persona: "kitchen",
        fields: &["home/kitchen"],
        grants: &[
            ("mijia-ricecooker", None),
            ("breville-bambino", Some(3)),
            ("stagg-ekg", None),
            ("lodge-skillet", None),
            ("zojirushi-mug", None),
        ],
        newcomer: false,
    },
    HolderPlan {
        key: "chen",
        name: "陈工 Chen Gong",
        persona: "computing",
        fields: &["electronics/computing", "electronics/networking"],
        grants: &[
            ("keychron-k2", None),
            ("mx-master3s", None),
            ("dell-u2723qe", Some(3)),
            ("samsung-t7", None),
            ("tplink-ax55", None),
            ("sony-xm5", None),
        ],
        newcomer: false,
    },
    HolderPlan {
        key: "dana",
        name: "Dana Okafor",
        persona: "mobile",
        fields: &["electronics/mobile", "electronics/audio"],
        grants: &[
            ("matepad-115", None),
            ("ipad-air", Some(3)),
            ("xiaomi-14", None),
            ("anker-65w", None),
            ("kindle-pw", None),
            ("sony-xm5", None),
            ("airpods-pro2", None),
            ("freebuds-pro3", None),
        ],
        newcomer: false,
    },
    HolderPlan {
        key: "eli",
        name: "Eli Moreau",
        persona: "generalist",
        fields: &["electronics", "home"],
        grants: &[
            ("sony-xm5", None),
            ("keychron-k2", None),
            ("tplink-ax55", None),
            ("anker-65w", None),
            ("kindle-pw", None),
            ("mijia-ricecooker", None),
            ("breville-bambino", Some(3)),
            ("hue-starter", None),
            ("dyson-v12", Some(4)),
        ],
        newcomer: false,
    },
    HolderPlan {
        key: "fern",
        name: "李芳 Fern Li",
        persona: "newcomer",
        fields: &["electronics/audio"],
        grants: &[
            ("sony-xm5", None),
            ("freebuds-pro3", None),
            ("jbl-charge5", None),
        ],
        newcomer: true,
    },
];

/// The past requesters (their demands build the holders' reputations).
pub const PAST_REQUESTERS: &[&str] = &["Lena Fischer", "王伟 Wang Wei", "Sam Carter"];

/// One past demand and how it played out.
#[derive(Debug)]
pub struct PastDemand {
    /// Index into [`PAST_REQUESTERS`].
    pub requester: usize,
    pub query: &'static str,
    pub category: Option<&'static str>,
    pub max_price: Option<&'static str>,
    pub fields: &'static [&'static str],
    /// Holders that decline the request; every other contacted holder offers.
    pub decline: &'static [&'static str],
    /// The holder whose offer the requester accepts, and the rating it gets.
    pub accept: &'static str,
    pub positive: bool,
    pub comment: &'static str,
}

const fn past(
    requester: usize,
    query: &'static str,
    decline: &'static [&'static str],
    accept: &'static str,
    positive: bool,
    comment: &'static str,
) -> PastDemand {
    PastDemand {
        requester,
        query,
        category: None,
        max_price: None,
        fields: &[],
        decline,
        accept,
        positive,
        comment,
    }
}

pub const HISTORY: &[PastDemand] = &[
    PastDemand {
        category: Some("electronics/audio/headphones"),
        ..past(
            0,
            "noise cancelling headphones",
            &["dana", "eli"],
            "aiko",
            true,
            "Fast, honest advice on fit.",
        )
    },
    past(
        1,
        "Apple AirPods",
        &[],
        "aiko",
        true,
        "Answered within minutes.",
    ),
    past(
        2,
        "Sony WH-1000XM5",
        &["dana"],
        "chen",
        false,
        "Slow replies, never confirmed the colour.",
    ),
    PastDemand {
        max_price: Some("450.00"),
        ..past(1, "降噪耳机", &["dana"], "aiko", true, "很专业，推荐！")
    },
    past(0, "电饭煲", &[], "bao", true, "Knew every model by heart."),
    past(
        2,
        "mechanical keyboard",
        &[],
        "eli",
        true,
        "Helpful comparison of switches.",
    ),
    past(
        0,
        "WiFi router",
        &[],
        "chen",
        false,
        "Offer was not what I asked for.",
    ),
    past(1, "GaN charger", &[], "dana", true, "Quick and friendly."),
    past(
        2,
        "Kindle e-reader",
        &["dana"],
        "eli",
        true,
        "Great tips on the warm light.",
    ),
    past(
        0,
        "espresso machine",
        &[],
        "eli",
        true,
        "Explained the unique pass clearly.",
    ),
    past(1, "华为 FreeBuds", &[], "dana", true, "推荐，回复很快。"),
    PastDemand {
        fields: &["electronics/audio"],
        ..past(
            2,
            "over-ear headphones",
            &["dana"],
            "aiko",
            true,
            "Clearly knows audio.",
        )
    },
    PastDemand {
        category: Some("electronics/audio"),
        ..past(
            0,
            "wireless earbuds",
            &["dana"],
            "aiko",
            true,
            "Patient with all my questions.",
        )
    },
    past(1, "头戴 耳机", &["dana"], "aiko", true, "非常满意。"),
    past(
        2,
        "rice cooker",
        &[],
        "eli",
        false,
        "Never answered my follow-up.",
    ),
    past(
        0,
        "mechanical keyboard 75%",
        &[],
        "chen",
        true,
        "Good switch advice.",
    ),
    past(
        1,
        "索尼 耳机",
        &["dana"],
        "aiko",
        false,
        "Offer came with the wrong colour.",
    ),
    past(
        2,
        "AirPods",
        &[],
        "aiko",
        true,
        "Smooth from start to finish.",
    ),
    past(
        0,
        "Kindle Paperwhite",
        &[],
        "dana",
        true,
        "Friendly and quick.",
    ),
    past(
        1,
        "TP-Link router",
        &[],
        "eli",
        true,
        "Solid recommendation.",
    ),
    past(
        2,
        "Sony noise cancelling",
        &["dana"],
        "chen",
        false,
        "Pushy, unclear about returns.",
    ),
    past(
        0,
        "华为 耳机",
        &["dana"],
        "aiko",
        true,
        "Great price, great service.",
    ),
    past(
        1,
        "65W charger",
        &["dana"],
        "eli",
        true,
        "Exactly what I needed.",
    ),
    past(
        2,
        "earbuds noise cancellation",
        &["dana"],
        "aiko",
        true,
        "Would buy through Aiko again.",
    ),
];

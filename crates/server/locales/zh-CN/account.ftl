# 个人账户：注册、登录、账户页。简体中文。
# 这里的每个键也必须存在于 en-US/account.ftl（有测试检查）。

## The account menu
layout-account = 账户
layout-sign-up = 注册
error-cross-site = 此表单来自其他网站，已被拒绝。请在本站打开页面后重试。

## Form fields
field-email = 电子邮箱
field-password = 密码
field-new-password = 密码
field-your-name = 你的名字
field-roles = 我想要…
role-requester = 购买（需求方）
role-holder = 推荐通行证（持有人）
role-provider = 销售商品（提供方）
role-operator = 处理争议（运营方）

## Sign-in
login-wrong = 邮箱或密码错误。
login-too-many = 登录失败次数过多，请 { $n } 分钟后再试。
login-no-account = 第一次来？
login-to-signup = 创建账户

## Sign-up
signup-title = 创建账户
signup-button = 创建账户
signup-have-account = 已有账户？
signup-to-login = 登录
signup-password-hint = 至少 { $n } 个字符；长一些的口令短语最好。
signup-name-invalid = 请输入你的名字（最多 200 个字符）。
signup-email-invalid = 请输入电子邮箱地址，例如 name@example.org。
signup-password-invalid = 密码须为 8 到 128 个字符。
signup-roles-invalid = 请至少选择一个角色。
signup-email-taken = 此邮箱已有账户。要改为登录吗？
signup-too-many = 你所在网络创建的账户过多，请 { $n } 分钟后再试。

## The account page
account-title = 你的账户
account-roles = 角色：
account-profile = 收货与付款
account-card-new = 新银行卡号（沙盒）
account-save = 保存
account-language = 语言
account-language-now = 当前页面语言：
account-devices = 已登录的设备
account-device-unknown = 未知浏览器
account-device-since = 登录于
account-device-seen = 最近使用
account-device-this = 本设备
account-device-revoke = 退出
account-devices-revoke-others = 退出其他所有设备
account-keys = API 密钥
account-key-made = 你的新密钥“{ $arg }”：
account-key-once = 请立即复制：它只显示这一次。
account-keys-none = 还没有 API 密钥。
account-key-revoke = 吊销
account-key-label = 新密钥的标签
account-key-create = 创建密钥
account-passkeys = 通行密钥
account-passkeys-none = 还没有通行密钥。
account-passkey-created = 添加于
account-passkey-used = 上次使用
account-passkey-never = 从未使用
account-passkey-remove = 移除
account-passkey-name = 新通行密钥的名称
account-passkey-add = 添加通行密钥
account-passkey-needs-js = 添加通行密钥需要 JavaScript 和支持通行密钥的浏览器。

## 通行密钥（passkey.js 及其接口的消息）
login-passkey = 使用通行密钥登录
passkey-working = 正在等待你的通行密钥…
passkey-cancelled = 未使用通行密钥。请重试，或使用密码登录。
passkey-error-ceremony = 用时过长或已使用过；请重试。
passkey-error-invalid = 通行密钥未被接受。
passkey-error-too-many = 你的通行密钥已达上限；请先移除一个。
passkey-error-signed-out = 你已退出登录；请重新登录后再添加通行密钥。
passkey-error-name = 请为通行密钥命名（最多 64 个字符）。

## The pass page
pass-sign-in-to-order-hint = 登录后即可下单；你的地址和银行卡会被保存，下次一键下单。
pass-sign-in-link = 登录
pass-sign-up-link = 创建账户
pass-sign-in-first = 请先登录再下单。

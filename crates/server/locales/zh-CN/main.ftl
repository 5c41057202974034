# Symbolon 网页，简体中文。
# 这里的每个键也必须存在于 en-US/main.ftl（有测试检查）。

## Layout and errors
layout-signed-in-as = 已登录：
layout-sign-out = 退出
layout-sign-in = 登录
error-internal = 我们这边出了问题，没有扣款。请重试。
error-form-expired = 表单已过期，请重试。
error-form-foreign = 表单已过期或并非来自本页，请重试。
error-rate-limited = 请求过于频繁，请等待 { $n } 秒后再试。

## Form fields
field-quantity = 数量
field-address-legend = 收货地址
field-name = 姓名
field-line1 = 地址
field-city = 城市
field-postal-code = 邮政编码
field-country = 国家（两个字母）
field-card-number = 银行卡号（用于“下单并付款”）

## Sign-in
login-title = 登录
login-button = 登录
login-signed-in-title = 已登录
login-signed-in-as = 账户

## The pass page
pass-valid = 有效通行证
pass-sold-by = 销售与发货：
pass-recommended-by = 推荐人：
pass-specs = 规格
pass-no-specs = 未提供规格。
pass-pass = 通行证
pass-mode-shareable = 可共享
pass-mode-unique = 唯一单件
pass-valid-until = 有效期至 { $arg }
pass-no-expiry = 无有效期限制
pass-no-unit-left = 已无剩余单件
pass-out-of-stock = 缺货
pass-units-left-after = 件可售
pass-in-stock-after = 件有货
pass-purchases = 购买记录
pass-orders-after = 个订单
pass-units-in-all = 共 { $n } 件
pass-no-purchases = 暂无购买。
pass-buyer-ordered = 一位买家订购了
pass-reviews = 评价
pass-positive-of = 好评（共 { $n } 条评分）
pass-no-reviews = 暂无评价。
pass-positive = 好评
pass-negative = 差评
pass-verified-buyer = 已验证买家
pass-order = 下单
pass-not-orderable = 此通行证已不能用于下单：{ $arg }。
pass-why-archived = 提供方已停售该商品
pass-why-revoked = 提供方已撤销它
pass-why-expired = 它已过期
pass-why-not-yet-valid = 它尚未生效
pass-why-invalid = 它无效
pass-new-buyer = 第一次来？添加地址和银行卡
pass-ships-to = 寄往
pass-pays-with-card = 使用尾号为以下数字的银行卡付款：
pass-btn-order = 下单
pass-btn-order-pay = 下单并付款
pass-quantity-whole = 数量：须为整数
pass-choose-action = 请选择“下单”或“下单并付款”。
pass-share = 分享此通行证
pass-qr-label = 链接的二维码
pass-verify = 验证
pass-verify-signed-by = 此通行证是由 { $arg } 签名（Ed25519）的 W3C 可验证凭证。
pass-verify-check = 可使用任意 JOSE 库对照
pass-verify-keys = 签发方密钥
pass-verify-metadata = 签发方元数据
pass-verify-offline = 进行验证，也可离线验证：
pass-verify-details = 密钥与已签名的通行证
pass-verify-key = 密钥：

## The order page
order-headline-placed = 已下单
order-headline-paid = 已下单并付款
order-headline-shipped = 订单已发货
order-headline-delivered = 订单已送达
order-headline-cancelled = 订单已取消
order-headline-refunded = 订单已退款
order-headline-expired = 订单已过期
order-thanks = 谢谢。
order-order = 订单
order-status = 状态
order-total = 总计
order-payment = 付款
order-payment-received-ref = 已收到（{ $arg }）
order-payment-none-cancelled = 无：付款前已取消
order-payment-received = 已收到
order-payment-expired = 未按时付款，订单已过期
order-payment-due = 请于 { $arg } 前付款；可在“我的订单”中付款
order-payment-awaiting = 等待买家付款（截至 { $arg }）
order-unit = 单件
order-unit-no = 第 { $n } 号
order-unit-when-paid = 付款后分配
order-refunded = 已退款
order-delivered = 送达时间
order-returns-until = 可退货至
order-back-to-pass = 返回通行证

## The balance page
balance-title = 余额
balance-explain = 订单的款项在送达且退货期结束前为“待结算”；之后在提现前为“可用”。
balance-owes-before = 您欠交易所
balance-owes-after = ：一笔退款收回了已经支付给您的款项。将从您下次的收入中扣除。
balance-no-money = 尚无资金变动。
balance-currency = 币种
balance-pending = 待结算
balance-available = 可用
balance-paid-out = 已提现
balance-in-all = 合计

# 持有者、提供者和运营者控制台共用的部分：导航、角色名称，以及缺少角色时的页面。
nav-inbox = 收件箱
nav-wallet = 钱包
nav-earnings = 收益
nav-reputation = 信誉
nav-catalog = 商品目录
nav-new-pass = 签发凭证
nav-sales = 销售
nav-settings = 设置
nav-disputes = 争议
console-role-provider = 提供者
console-role-holder = 持有者
console-role-requester = 需求方
console-role-operator = 运营者
error-lacks-role = 此页面仅供{ $arg }账户使用，您的账户不是。
error-home = 首页

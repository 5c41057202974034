# What the holder's, the provider's and the operator's consoles share: the
# navigation, the roles' names and the page for a role one lacks.
nav-inbox = Inbox
nav-wallet = Wallet
nav-earnings = Earnings
nav-reputation = Reputation
nav-catalog = Catalog
nav-new-pass = Issue a pass
nav-sales = Sales
nav-settings = Settings
nav-disputes = Disputes
console-role-provider = provider
console-role-holder = holder
console-role-requester = requester
console-role-operator = operator
error-lacks-role = This page is for a { $arg } account, and yours is not one.
error-home = Home

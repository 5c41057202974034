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
role-name-provider = provider
role-name-holder = holder
role-name-requester = requester
role-name-operator = operator
error-lacks-role = This page is for a { $arg } account, and yours is not one.
error-home = Home
chart-empty = Nothing to chart yet.
chart-as-table = The figures as a table
chart-period = Period

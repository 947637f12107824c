import Testing
@testable import DemoShop

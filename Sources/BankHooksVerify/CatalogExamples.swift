// The example of every built-in event type, served as its JSON Schema `examples` (GET
// /v1/event-types/{name}): the `data` of the test fixtures (every seed example in
// Tests/BankHooksServerTests/Fixtures/golden/, and one payload per type the providers really sent
// from Fixtures/provider/), compact, in the fixtures' member order; the rest, which no provider
// prints, written by BankHooks from the fields the provider documents. Tests check that each
// validates against its own schema and model (CatalogTests) and that the fixtures' data is here
// (GoldenTests).

enum CatalogExamples {
    /// Each type's examples: the `data` of an event, and where it comes from.
    static let byName: [String: [CatalogExample]] = [
        "bank_link.result": [
            CatalogExample(.seed, "seed 000", ##"{"status":{"code":"401","message":"The username or password submitted was incorrect"},"data":null}"##),
            CatalogExample(.seed, "seed 000", ##"{"status":{"code":"200","message":"Success, here's everything you need to retrieve your user's information"},"data":{"entity":{"entity_uuid":"f08fb010-878f-407a-9ac2-a7840fb56185","app_user_id":"00001","permissions":[]},"bank_details":{"name":"Lean Mockbank 1","bank_identifier":"LEANMB1","logo_url":"","primary_color":"#183F3F"}}}"##),
        ],
        "bank.availability.updated": [
            CatalogExample(.seed, "seed 001", ##"{"identifier":"BANK1_KSA","availability":{"active":{"payments":true,"data":true},"enabled":{"payments":true,"data":true}}}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman KSA/Webhooks/bank.availability.updated-disabled.json @b883f28", ##"{"identifier":"LEA1_SAMAOB_SAU","availability":{"active":{"payments":false,"data":false},"enabled":{"payments":true,"data":true}}}"##),
        ],
        "entity.created": [
            CatalogExample(.seed, "seed 001", ##"{"id":"dd64bba9-9446-4ca0-b9ed-bec2b2a49024","app_user_id":"lean_test_framework_user_1678954843328","customer_id":"a8e9bf82-245a-4f5c-b048-9024fd7910cb","permissions":["transactions","identity","identities","accounts","standing_orders","direct_debits","scheduled_payments","beneficiaries"],"bank_details":{"logo":"https://cdn.leantech.me/img/banks/white-lean.png","name":"Lean SAMA Open Banking MockBank","account_type":"BUSINESS","identifier":"LEA1_SAMAOB_SAU","main_color":"#1beb75","background_color":"#ffffff"}}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman KSA/Webhooks/entity.created.json @b883f28", ##"{"id":"ed20559b-11f4-40dd-b912-629b7f37855b","customer_id":"80f315e8-d429-48fe-a902-8b202bb32403","app_user_id":"test_postman","permissions":["transactions","balance","identity","identities","accounts","standing_orders","direct_debits","scheduled_payments","beneficiaries"],"bank_details":{"identifier":"LEA1_SAMAOB_SAU","name":"Mockbank 1","logo":"https://cdn.leantech.me/img/banks/color-gmockbank2.png","main_color":"#1beb75","background_color":"#ffffff","swift_code":"MOCKSA01","account_type":"PERSONAL","bank_type":"RETAIL"}}"##),
        ],
        "entity.updated": [
            CatalogExample(.seed, "seed 001", ##"{"id":"d4718195-fef6-43ff-a3aa-69fc257752ab","app_user_id":"lean_test_framework_user_1678955197525","customer_id":"22df5cab-1002-4835-bc78-5d1854b3fc69","permissions":["transactions","identity","identities","accounts","standing_orders","direct_debits","scheduled_payments","beneficiaries"],"bank_details":{"logo":"https://cdn.leantech.me/img/banks/white-lean.png","name":"Lean SAMA Open Banking MockBank","identifier":"LEA1_SAMAOB_SAU","account_type":"BUSINESS","main_color":"#1beb75","background_color":"#ffffff"}}"##),
        ],
        "hyperlink.unsupported_bank_request.created": [
            CatalogExample(.seed, "seed 001", ##"{"customer_id":"dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff","bank_identifier":"STC_SAU"}"##),
        ],
        "iban_account_verification.bank.availability.updated": [
            CatalogExample(.seed, "seed 001", ##"{"country_code":"SA","bank_code":"80","availability":{"global":"enabled","account_type":{"personal":{"match":"enabled","no_match":"enabled"},"freelancer":{"match":"enabled","no_match":"enabled"},"business":{"match":"enabled","no_match":"enabled"}}}}"##),
        ],
        "payment.created": [
            CatalogExample(.seed, "seed 001", ##"{"id":"66214bdb-5f1a-4127-9ddc-cc44c0446c82","customer_id":"0fd6d135-a4be-40ac-9630-1738ced7da69","intent_id":"b896af3a-1781-4a48-b173-ce4b2ca6a522","status":"ACCEPTED_BY_BANK","amount":10.17,"currency":"AED","bank_transaction_reference":"0H129D0RT04YY"}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment.created.json @b883f28", ##"{"id":"c5bbaa0e-27b4-4767-896e-efd4b0d3d2ec","amount":25,"reason":"testing","status":"ACCEPTED_BY_BANK","currency":"AED","metadata":{"data":"meta_data_test"},"intent_id":"9979d193-21d7-4a40-b9ba-ee40ed9ae894","customer_id":"c16d41ab-e9d9-4416-b147-a9acadd9b6d5","payment_destination_id":"76ad0bf0-c594-4106-b83d-fc6a37966ed4","bank_transaction_reference":"payment-7200c30c-8eed-4f20-841f-2d3fbe428d86"}"##),
        ],
        "payment_source.beneficiary.created": [
            CatalogExample(.seed, "seed 001", ##"{"id":"2cd827ab-d0c4-462f-b2a2-12e3ef1b7d8e","customer_id":"0fd6d135-a4be-40ac-9630-1738ced7da69","payment_source_id":"ab172710-740c-452b-a78f-8a36a9cf48ef","payment_destination_id":"99da636d-d022-4e0a-a450-a293ecdcb125","status":"ACTIVE"}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment_source.beneficiary.created.json @b883f28", ##"{"id":"5d76abbb-d860-458d-b836-0f12104b8d78","status":"ACTIVE","customer_id":"34d41026-3385-4e14-bd79-56086c2eda34","payment_source_id":"3c81b339-e72e-4ef1-9cdc-a012a7057858","payment_destination_id":"b497d078-da47-488c-ba63-cd602f788262","payment_source_bank_identifier":"LEAN_OF_RETAIL_UAE"}"##),
        ],
        "payment_source.beneficiary.updated": [
            CatalogExample(.seed, "seed 001", ##"{"id":"2cd827ab-d0c4-462f-b2a2-12e3ef1b7d8e","customer_id":"0fd6d135-a4be-40ac-9630-1738ced7da69","payment_source_id":"ab172710-740c-452b-a78f-8a36a9cf48ef","payment_destination_id":"99da636d-d022-4e0a-a450-a293ecdcb125","status":"ACTIVE"}"##),
        ],
        "payment_source.created": [
            CatalogExample(.seed, "seed 001", ##"{"id":"ab172710-740c-452b-a78f-8a36a9cf48ef","customer_id":"0fd6d135-a4be-40ac-9630-1738ced7da69","status":"AWAITING_BENEFICIARY_COOL_OFF","bank_identifier":"LEANMB1","bank_name":"Lean Mock Bank"}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment_source.created.json @b883f28", ##"{"id":"3c81b339-e72e-4ef1-9cdc-a012a7057858","status":"ACTIVE","bank_name":"Lean Open Finance MockBank","customer_id":"34d41026-3385-4e14-bd79-56086c2eda34","end_user_id":null,"bank_identifier":"LEAN_OF_RETAIL_UAE"}"##),
        ],
        "payment.updated": [
            CatalogExample(.seed, "seed 001", ##"{"id":"e4e672fb-7f3c-43ea-be31-84195a65d0d7","customer_id":"8ad2437d-2815-4b5c-82fd-543d85567668","intent_id":"17e030df-91a9-4463-964c-6656605d5bcf","status":"ACCEPTED_BY_BANK","amount":670,"currency":"AED","bank_transaction_reference":"44778733","end_user_id":"eb3b08f9-4d5e-4ea3-8d28-09b4917a61a9"}"##),
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment.updated.json @b883f28", ##"{"id":"9d26f1b4-af80-4aab-af7f-1e2d5bf5e454","amount":12.34,"status":"ACCEPTED_BY_BANK","currency":"AED","metadata":{"data":"meta_data_test"},"intent_id":"4b1d5370-715b-4956-a013-3b99716cc9f7","customer_id":"a2b3e118-18e8-4d00-9538-270f691d385b","payment_destination_id":"b497d078-da47-488c-ba63-cd602f788262","bank_transaction_reference":"payment-a687e6d3-0a95-4d8f-b344-575a33241691"}"##),
        ],
        "report.failed": [
            CatalogExample(.seed, "seed 001", ##"{"customer_id":"dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff"}"##),
        ],
        "report.generated": [
            CatalogExample(.seed, "seed 001", ##"{"customer_id":"dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff","report_id":"f8752072-cef2-4056-9ff0-d5d2aa1e4558"}"##),
        ],
        "results.ready": [
            CatalogExample(.seed, "seed 001", ##"{"id":"dbd310a2-ebd9-4a0f-ae10-0f82f25f1bff"}"##),
        ],
        "BALANCE.PRODUCT_IS_READY": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null}"##),
        ],
        "IDENTITY.PRODUCT_IS_READY": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null}"##),
        ],
        "INCOME.PDOCUT_IS_READY": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null}"##),
        ],
        "RECORD.ERROR": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":{"display_message":"The provided credentials were not correct. Please try again.","error_code":"RECORD_LOGIN_REQUIRED","error_message":"the provided credentials were not correct","error_type":"RECORD_ERROR","status":400}}"##),
        ],
        "RECORD.WEBHOOK_UPDATE_ACKNOWLEDGED": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_callback_url":"https://okra.ng/example/callback"}"##),
        ],
        "TRANSACTIONS.TRANSACTIONS_DELETED": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","removed_transactions":["yBVBEwrPyJs8GvR77N7QTxnGg6wG74H7dEDN6","kgygNvAVPzSX9KkddNdWHaVGRVex1MHm3k9no"],"error":null}"##),
        ],
        "TRANSACTIONS.FULL_TRANSACTIONS": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_transactions":231}"##),
        ],
        "TRANSACTIONS.INITIAL_TRANSACTIONS": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_transactions":19}"##),
        ],
        "TRANSACTIONS.PERIODIC_TRANSACTIONS": [
            CatalogExample(.seed, "seed 002", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_transactions":3}"##),
        ],
        "TEST_EVENT": [
            CatalogExample(.seed, "seed 004", ##"{"item_id":1234567890,"status":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "entity.data.refresh.updated": [
            CatalogExample(.provider, "leantechnologies/lean-postman KSA/Webhooks/entity.data.refresh.updated.json @b883f28", ##"{"entity_id":"ed20559b-11f4-40dd-b912-629b7f37855b","refresh_id":"30cbedab-d920-42e7-a6f4-01bfe55adda5","customer_id":"80f315e8-d429-48fe-a902-8b202bb32403","status":"FINISHED","data_status":{"accounts":"OK","identity":"OK","account_data":[{"account_id":"b512d920-9389-4edc-a387-b7397658a195","balance":"OK","identity":"OK","transactions":"OK","scheduled_payments":"OK","direct_debits":"OK","standing_orders":"OK","beneficiaries":"OK","transaction_availability":{"start":"2025-05-13","end":"2026-05-12","complete_months":11}},{"account_id":"aa924b03-f544-4259-9797-9d6e9c0ed306","balance":"OK","identity":"OK","transactions":"OK","scheduled_payments":"OK","direct_debits":"OK","standing_orders":"OK","beneficiaries":"OK","transaction_availability":{"start":"2025-05-13","end":"2026-05-12","complete_months":11}}]},"app_user_id":"test_postman"}"##),
        ],
        "payment_intent.created": [
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment_intent.created.json @b883f28", ##"{"amount":10,"reason":"testing","status":"INTENT_CREATED","currency":"AED","metadata":{"data":"meta_data_test"},"intent_id":"dd566666-df7e-4ba1-ac60-ee5bebebdde7"}"##),
        ],
        "payment.reconciliation.updated": [
            CatalogExample(.provider, "leantechnologies/lean-postman UAE/Webhooks/payment.reconciliation.updated.json @402f672", ##"{"amount":12.12,"status":"RECONCILED","currency":"AED","reference":"payment-516c93c1-6b62-4d06-ad3b-c8d8c618d1cc","consent_id":null,"payment_id":"1c53cbc1-9f22-49c5-8d96-96655e33974a","payment_intent_id":"20db405b-7f71-4758-ab06-2dbb77015860","additional_property":null,"payment_description":"LOR ABB Again"}"##),
        ],
        "ACCOUNTS.ACCOUNTS_SUCCESS": [
            CatalogExample(.provider, "Michael-Lyon/payskul-demo core/dd.py @5471769", ##"{"method":"ACCOUNTS","type":"CALLBACK","code":"ACCOUNTS_SUCCESS","callbackURL":"https://payskul-demo.up.railway.app/core/webhook/","env":"production","status":"is_success","started_at":"2023-07-22T02:21:49.764Z","ended_at":"2023-07-22T02:22:37.518Z","message":"Successfully fetched accounts","options":{},"meta":{},"bankName":"Kuda Bank","bankType":"5f0cf73e8a8bcc18b8156ad7","bankId":"5f0cf73e8a8bcc18b8156ad7","bankSlug":"kuda-bank","record":"64bb3d3d1231db003b293ec3","recordId":"64bb3d3d1231db003b293ec3","callback_url":"https://api.okra.ng/v2/callback?record=64bb3d3d1231db003b293ec3&method=ACCOUNTS","customerId":"63d43e042e2c240013b94ed5","customerBvn":"00000000000","country":"NG","extras":{},"nuban":"0000000000","account":{"nuban":"0000000000","name":"DOE, JANE A","ledger_balance":153.37,"available_balance":153.37,"currency":"NGN","status":"Active","account":"64ba5a64303403e516f98b3c","accountId":"64ba5a64303403e516f98b3c"}}"##),
        ],
        "AUTH.AUTH_SUCCESS": [
            CatalogExample(.provider, "Michael-Lyon/payskul-demo core/dd.py @5471769", ##"{"method":"AUTH","type":"CALLBACK","code":"AUTH_SUCCESS","callbackURL":"https://payskul-demo.up.railway.app/core/webhook/","env":"production","status":"is_success","started_at":"2023-07-22T02:21:49.764Z","ended_at":"2023-07-22T02:22:37.397Z","message":"Successfully fetched auth","options":{},"meta":{},"bankName":"Kuda Bank","bankType":"5f0cf73e8a8bcc18b8156ad7","bankId":"5f0cf73e8a8bcc18b8156ad7","bankSlug":"kuda-bank","record":"64bb3d3d1231db003b293ec3","recordId":"64bb3d3d1231db003b293ec3","callback_url":"https://api.okra.ng/v2/callback?record=64bb3d3d1231db003b293ec3&method=AUTH","customerId":"63d43e042e2c240013b94ed5","customerBvn":"00000000000","country":"NG","extras":{},"auth":{}}"##),
        ],
        "BALANCE.BALANCE_SUCCESS": [
            CatalogExample(.provider, "Michael-Lyon/payskul-demo core/dd.py @5471769", ##"{"method":"BALANCE","type":"CALLBACK","code":"BALANCE_SUCCESS","callbackURL":"https://payskul-demo.up.railway.app/core/webhook/","env":"production","status":"is_success","started_at":"2023-07-22T02:21:49.764Z","ended_at":"2023-07-22T02:22:37.504Z","message":"Successfully fetched balance","options":{},"meta":{},"bankName":"Kuda Bank","bankType":"5f0cf73e8a8bcc18b8156ad7","bankId":"5f0cf73e8a8bcc18b8156ad7","bankSlug":"kuda-bank","record":"64bb3d3d1231db003b293ec3","recordId":"64bb3d3d1231db003b293ec3","callback_url":"https://api.okra.ng/v2/callback?record=64bb3d3d1231db003b293ec3&method=BALANCE","customerId":"63d43e042e2c240013b94ed5","customerBvn":"00000000000","country":"NG","extras":{},"nuban":"0000000000","balance":{"nuban":"0000000000","name":"DOE, JANE A","ledger_balance":153.37,"available_balance":153.37,"currency":"NGN","status":"Active","accountId":"64ba5a64303403e516f98b3c"}}"##),
        ],
        "IDENTITY.IDENTITY_IS_READY": [
            CatalogExample(.provider, "Michael-Lyon/payskul-demo core/dd.py @5471769", ##"{"method":"IDENTITY","type":"CALLBACK","code":"IDENTITY_IS_READY","callbackURL":"https://payskul-demo.up.railway.app/core/webhook/","env":"production","status":"is_success","started_at":"2023-07-22T01:06:52.508Z","ended_at":"2023-07-22T01:07:27.525Z","message":"Successfully fetched identity","options":{},"meta":{},"bankName":"Kuda Bank","bankType":"5f0cf73e8a8bcc18b8156ad7","bankId":"5f0cf73e8a8bcc18b8156ad7","bankSlug":"kuda-bank","record":"64bb2bac1231db003b293684","recordId":"64bb2bac1231db003b293684","callback_url":"https://api.okra.ng/v2/callback?record=64bb2bac1231db003b293684&method=IDENTITY","customerId":"63d43e042e2c240013b94ed5","customerBvn":"00000000000","country":"NG","extras":{},"identity":{"enrollment":{"bank":"033","branch":"Example Branch","registration_date":"2015-01-01"},"aliases":[],"phone":["08000000000"],"email":[],"verified":false,"next_of_kins":[],"address":["1 Example Street"],"owner":"63f157fbbad20d13e7664894","record":"64bb2bac1231db003b293684","bvn_updated":false,"smileId":false,"paystackId":false,"ref_ids":[],"merged":false,"fbn_fix":false,"merged_ids":[],"projects":["63f157fb1a0f603b1b58423f"],"_id":"63d43dfb567faa9d15a8daa8","bvn":"00000000000","__v":0,"created_at":"2023-01-27T21:11:23.739Z","dob":"1990-01-01","firstname":"Jane","fullname":"Jane A Doe","gender":"Female","is_bvn_verified":true,"last_bvn_processed":"2023-01-27T21:11:23.738Z","last_updated":"2023-07-22T00:56:01.457Z","lastname":"Doe","level_of_account":"Level 1 Low Level Accounts","lga_of_origin":"Example","lga_of_residence":"Example","marital_status":"Single","middlename":"A","nationality":"Nigeria","nin":null,"photo_id":[{"_id":"647505f653ccae002f53eb6f","url":"https://example.com/photo.png","image_type":"bvn_photo"}],"state_of_origin":"Example State","state_of_residence":"Example State","verification_country":"NG","watch_listed":"No","customer":"63d43e042e2c240013b94ed5","employer":[]}}"##),
        ],
        "user.deleted": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.created": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.refreshed": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_types":"payment","full_refresh":true,"refresh_trigger":"connect","item_id":8123456,"status_code":0,"status_code_info":"ok","authentication_expires_at":"2026-08-24T10:00:00.000Z","user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.deleted": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.account.created": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_id":22908770,"balance":1678.12,"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.account.updated": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_id":22908770,"balance":1678.12,"item_id":8123456,"nb_deleted_transactions":0,"nb_new_transactions":15,"nb_updated_transactions":0,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "item.account.deleted": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_id":22908770,"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "payment.transaction.created": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"payment_transaction_id":"3c5ab3f1-8c07-4d6b-9a46-0f7e3d2b1a90","payment_request_id":"b6c1c7e4-5f0a-4b1d-8a3e-2d9f6e7c8b10","payment_link_id":"a1f2e3d4-c5b6-4a79-8e10-9f8e7d6c5b4a","client_reference":"order-42","end_to_end_id":"E2E-20260824-0001"}"##),
        ],
        "payment.transaction.updated": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"payment_transaction_id":"3c5ab3f1-8c07-4d6b-9a46-0f7e3d2b1a90","payment_request_id":"b6c1c7e4-5f0a-4b1d-8a3e-2d9f6e7c8b10","status":"ACSC","payment_link_id":"a1f2e3d4-c5b6-4a79-8e10-9f8e7d6c5b4a","client_reference":"order-42","end_to_end_id":"E2E-20260824-0001"}"##),
        ],
        "payment.link.updated": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"payment_link_id":"a1f2e3d4-c5b6-4a79-8e10-9f8e7d6c5b4a","payment_link_status":"completed","payment_link_client_reference":"order-42","payment_status":"initiated_in_success"}"##),
        ],
        "transfer.account.created": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_id":22908770,"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "transfer.account.updated": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"account_id":22908770,"item_id":8123456,"user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7"}"##),
        ],
        "transfer.created": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"transfer_id":"f3e1c2d4-7b8a-4c6d-9e0f-1a2b3c4d5e6f","user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7","status":"created"}"##),
        ],
        "transfer.updated": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"transfer_id":"f3e1c2d4-7b8a-4c6d-9e0f-1a2b3c4d5e6f","user_uuid":"9a95b38f-f98b-417a-988b-9d0d584893e7","status":"failed","status_reason":"insufficient_funds"}"##),
        ],
        "BALANCE.INITIAL_BALANCE": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_balances":2}"##),
        ],
        "BALANCE.PERIODIC_BALANCE": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null,"new_balances":1}"##),
        ],
        "BALANCE.BALANCE_DELETED": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","removed_balances":["yBVBEwrPyJs8GvR77N7QTxnGg6wG74H7dEDN6"],"error":null}"##),
        ],
        "AUTH.PRODUCT_IS_READY": [
            CatalogExample(.bankhooks, "BankHooks, from the fields the provider documents", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null}"##),
        ],
        "INCOME.PRODUCT_IS_READY": [
            CatalogExample(.seed, "seed 002, the Income example with the code of the Identity and Balance examples", ##"{"record":"wz666MBjYWTp2PDzzggYhM6oWWmBb","error":null}"##),
        ],
        "webhook.test": [
            CatalogExample(.bankhooks, "BankHooks", ##"{"webhook_id":"wh_01m8634d78xks05nqv39q0e800","message":"A test event from BankHooks."}"##),
        ],
        "webhook.disabled": [
            CatalogExample(.bankhooks, "BankHooks", ##"{"webhook_id":"wh_01m8634d78xks05nqv39q0e800","url":"https://example.com/hooks","reason":"failing","failing_since":"2026-11-21T06:15:58.104Z"}"##),
        ],
    ]
}

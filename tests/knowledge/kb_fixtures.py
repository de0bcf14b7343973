"""A small hand-made KB shared by the knowledge tests."""

from bot.knowledge.model import Article

ARTICLES = [
    Article(
        "delivery",
        "Delivery status",
        "en",
        ("where is my order", "when will my parcel arrive", "track my delivery"),
    ),
    Article(
        "refund",
        "Refunds",
        "en",
        ("how do i get my money back", "i want a refund", "return an item for a refund"),
    ),
    Article(
        "password",
        "Reset password",
        "en",
        ("i forgot my password", "how to change my password", "cannot log in"),
    ),
    Article(
        "hours",
        "Opening hours",
        "en",
        ("when are you open", "what time do you close", "are you open on sunday"),
    ),
    Article(
        "delivery_ru",
        "Доставка",
        "ru",
        ("где мой заказ", "когда придет посылка", "отследить доставку"),
    ),
    Article(
        "refund_ru",
        "Возврат денег",
        "ru",
        ("как вернуть деньги", "хочу оформить возврат", "возврат товара"),
    ),
    Article(
        "password_ru", "Сброс пароля", "ru", ("забыл пароль", "как сменить пароль", "не могу войти")
    ),
]

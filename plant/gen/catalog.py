"""Master data: product families (raw materials, intermediate steps, finished goods) and customers."""

from __future__ import annotations

import random

from plant.gen.model import Customer, Plant, Product

FAMILIES = [
    "Ascorbic acid", "Ibuprofen", "Paracetamol", "Citric acid", "Lactose", "Whey protein", "Cocoa",
    "Maize starch", "Gelatin", "Xanthan gum", "Calcium carbonate", "Metformin", "Omeprazole",
    "Amoxicillin", "Vitamin D3", "Folic acid", "Magnesium stearate", "Sorbitol", "Pectin", "Caffeine",
]  # fmt: skip
RAW_KINDS = ["precursor", "reagent", "solvent", "excipient"]
STEPS = [
    "crude", "solution", "filtrate", "crystals", "wet cake", "dried powder", "milled powder",
    "granulate", "blend", "concentrate", "coated pellets", "compacted cores",
]  # fmt: skip
FORMS = ["25 kg bags", "drums", "bulk bags", "cartons"]
SHARED = ["Sucrose", "Microcrystalline cellulose", "Ethanol 96%", "Sodium chloride"]
PLANTS = ["DE01", "DE02", "IE01", "US01", "US02", "SG01"]
SUPPLIERS = [
    "Rhine Chemicals", "Nordic Minerals", "Alpine Ingredients", "Baltic Solvents", "Iberia Sugars",
    "Danube Salts", "Celtic Starches", "Hanse Reagents",
]  # fmt: skip
CUSTOMER_NAMES = [
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Adatum", "Litware", "Proseware",
    "Lucerne", "Alpine", "Coho", "Woodgrove", "Blue Yonder", "Trey", "Wide World", "Humongous",
]  # fmt: skip
CUSTOMER_KINDS = ["Foods", "Pharma", "Nutrition", "Labs", "Health", "Trading", "Bakeries", "Brands"]
COUNTRIES = ["DE", "FR", "NL", "US", "GB", "IT", "ES", "PL", "SE", "JP", "BR", "CA"]


class Catalog:
    """The products of each family by level, and which shared raw materials each family uses."""

    def __init__(self, families: int, levels: int) -> None:
        self.families = families
        self.levels = levels
        self.shared: list[Product] = []
        self.raw: list[list[Product]] = [[] for _ in range(families)]
        self.steps: list[list[Product]] = [[] for _ in range(families)]  # index = level - 1
        self.finished: list[list[Product]] = [[] for _ in range(families)]
        self.shared_of: list[list[Product]] = [[] for _ in range(families)]
        self.rework: list[Product] = []  # raw, intermediate, finished of the bad-data corner


def family_name(family: int) -> str:
    base = FAMILIES[family % len(FAMILIES)]
    return base if family < len(FAMILIES) else f"{base} {family // len(FAMILIES) + 1}"


def build_catalog(rng: random.Random, plant: Plant, families: int, levels: int) -> Catalog:
    catalog = Catalog(families, levels)
    products = plant.products

    def add(name: str, kind: str, family: int, level: int, coa: bool = False) -> Product:
        shelf = {"RAW": (730, 1095), "INTERMEDIATE": (180, 365), "FINISHED": (540, 1095)}[kind]
        product = Product(f"P{len(products) + 1:04d}", name, kind, family, level, coa, rng.randint(*shelf))
        products.append(product)
        return product

    catalog.shared = [add(name, "RAW", -1, 0) for name in SHARED]
    for family in range(families):
        name = family_name(family)
        catalog.raw[family] = [add(f"{name} {kind}", "RAW", family, 0) for kind in RAW_KINDS[:3]]
        for level in range(1, levels - 1):
            step = STEPS[(level - 1) % len(STEPS)]
            catalog.steps[family].append(add(f"{name} {step} (step {level})", "INTERMEDIATE", family, level))
        forms = rng.sample(FORMS, 3 if family % 2 else 2)
        for i, form in enumerate(forms):
            coa = (i == 1) if family == 0 else rng.random() < 0.4
            catalog.finished[family].append(add(f"{name} {form}", "FINISHED", family, levels - 1, coa))
        catalog.shared_of[family] = [
            shared for s, shared in enumerate(catalog.shared) if s == 0 or (family + s) % 2 == 0
        ]
    catalog.rework = [
        add("Recovered solvent", "RAW", families, 0),
        add("Rework blend", "INTERMEDIATE", families, 1),
        add("Reworked granulate 25 kg bag", "FINISHED", families, 2),
    ]
    plant.families, plant.levels = families, levels
    return catalog


def build_customers(rng: random.Random, plant: Plant, count: int, families: int) -> None:
    for i in range(count):
        base = f"{CUSTOMER_NAMES[i % len(CUSTOMER_NAMES)]} {CUSTOMER_KINDS[(i // len(CUSTOMER_NAMES)) % 8]}"
        round_ = i // (len(CUSTOMER_NAMES) * len(CUSTOMER_KINDS))
        name = base if round_ == 0 else f"{base} {round_ + 1}"
        coa = i == 1 or (i != 0 and rng.random() < 0.3)
        bought = rng.sample(range(families), min(families, rng.randint(1, 3)))
        plant.customers.append(Customer(f"C{i + 1:04d}", name, rng.choice(COUNTRIES), coa, sorted(bought)))

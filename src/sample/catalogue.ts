// The product catalogue: categories with subcategories and brands, power-law popularity, and one fixed name, brand,
// SKU, price and weight per PRODUCT_ID (every line item of a product agrees on them).
import { Rng, Zipf } from './prng.ts';

interface CategorySpec {
  name: string;
  weight: number;
  /** Subcategory -> product nouns in it. */
  subcategories: Readonly<Record<string, readonly string[]>>;
  brands: readonly string[];
  /** Price range in cents (log-uniform). */
  price: readonly [number, number];
  weightKg: readonly [number, number];
  sizes?: readonly string[];
  colors?: readonly string[];
  /** Bought again and again (repeat-purchase signal). */
  consumable: boolean;
}

const CATEGORIES: readonly CategorySpec[] = [
  { name: 'Electronics', weight: 14, subcategories: { Phones: ['Smartphone', 'Phone Case', 'Screen Protector'], Audio: ['Headphones', 'Earbuds', 'Speaker'], Computers: ['Laptop', 'Keyboard', 'Monitor', 'Tablet'], Wearables: ['Smartwatch', 'Fitness Tracker'], Accessories: ['Charger', 'Power Bank', 'USB Cable'] }, brands: ['Voltix', 'Sonora', 'Pixelon', 'Nimbus', 'Arcwave'], price: [1500, 150000], weightKg: [0.1, 3], colors: ['Black', 'White', 'Silver'], consumable: false },
  { name: 'Apparel', weight: 18, subcategories: { Tops: ['T-Shirt', 'Sweater', 'Hoodie', 'Blouse'], Bottoms: ['Jeans', 'Chinos', 'Shorts', 'Skirt'], Outerwear: ['Jacket', 'Raincoat', 'Parka'], Shoes: ['Sneakers', 'Boots', 'Sandals'], Activewear: ['Leggings', 'Running Shirt', 'Sports Bra'] }, brands: ['Northline', 'Urbane', 'Kestrel', 'Maris', 'Tidewear'], price: [1200, 18000], weightKg: [0.1, 1.5], sizes: ['XS', 'S', 'M', 'L', 'XL'], colors: ['Black', 'Navy', 'Grey', 'Red', 'Olive', 'White'], consumable: false },
  { name: 'Home & Kitchen', weight: 12, subcategories: { Cookware: ['Skillet', 'Saucepan', 'Dutch Oven'], Appliances: ['Blender', 'Kettle', 'Toaster', 'Coffee Maker'], Bedding: ['Pillow', 'Duvet', 'Sheet Set'], Decor: ['Lamp', 'Vase', 'Picture Frame', 'Candle'], Storage: ['Storage Box', 'Shelf Organizer', 'Laundry Basket'] }, brands: ['Hearthly', 'Casa Nova', 'Linenry', 'Brightnest'], price: [900, 40000], weightKg: [0.2, 8], colors: ['White', 'Grey', 'Sage', 'Terracotta'], consumable: false },
  { name: 'Beauty', weight: 10, subcategories: { Skincare: ['Moisturizer', 'Serum', 'Cleanser', 'Sunscreen'], Makeup: ['Lipstick', 'Mascara', 'Foundation'], Haircare: ['Shampoo', 'Conditioner', 'Hair Oil'], Fragrance: ['Perfume', 'Body Mist'] }, brands: ['Lumiere', 'Petalis', 'Veda', 'Glowe'], price: [600, 12000], weightKg: [0.05, 0.6], consumable: true },
  { name: 'Grocery', weight: 16, subcategories: { Snacks: ['Granola', 'Protein Bar', 'Trail Mix', 'Crackers'], Beverages: ['Sparkling Water', 'Juice', 'Kombucha'], Pantry: ['Olive Oil', 'Pasta', 'Rice', 'Tomato Sauce'], 'Coffee & Tea': ['Coffee Beans', 'Green Tea', 'Espresso Pods'] }, brands: ['Farmhouse', 'Good Grain', 'Brewster', 'Nutty Co'], price: [250, 3500], weightKg: [0.1, 2], consumable: true },
  { name: 'Sports & Outdoors', weight: 9, subcategories: { Fitness: ['Yoga Mat', 'Dumbbells', 'Resistance Bands'], Camping: ['Tent', 'Sleeping Bag', 'Camp Stove', 'Backpack'], Cycling: ['Bike Helmet', 'Bike Light', 'Water Bottle'], 'Team Sports': ['Football', 'Basketball', 'Shin Guards'] }, brands: ['Summit', 'Trailhead', 'Pacer', 'Ironclad'], price: [1000, 60000], weightKg: [0.2, 10], colors: ['Black', 'Blue', 'Orange', 'Green'], consumable: false },
  { name: 'Toys & Games', weight: 7, subcategories: { 'Board Games': ['Board Game', 'Card Game', 'Strategy Game'], 'Building Sets': ['Building Set', 'Marble Run'], Puzzles: ['Jigsaw Puzzle', 'Brain Teaser'], 'Outdoor Play': ['Kite', 'Water Blaster', 'Scooter'] }, brands: ['Playvista', 'Brickly', 'Gamewright'], price: [800, 15000], weightKg: [0.1, 3], consumable: false },
  { name: 'Books', weight: 6, subcategories: { Fiction: ['Novel', 'Thriller', 'Short Stories'], 'Non-Fiction': ['Biography', 'History', 'Guide'], Children: ['Picture Book', 'Activity Book'], Cookbooks: ['Cookbook', 'Baking Book'] }, brands: ['Pageturn Press', 'Inkwell', 'Harbor Books'], price: [700, 4500], weightKg: [0.2, 1.2], consumable: false },
  { name: 'Pet Supplies', weight: 8, subcategories: { Dog: ['Dog Food', 'Chew Toy', 'Dog Leash'], Cat: ['Cat Litter', 'Cat Treats', 'Scratching Post'], Aquarium: ['Fish Food', 'Aquarium Filter'] }, brands: ['Pawsome', 'Whisker & Co', 'Fetchly'], price: [400, 9000], weightKg: [0.2, 12], consumable: true },
];

const ADJECTIVES = ['Classic', 'Pro', 'Essential', 'Premium', 'Everyday', 'Deluxe', 'Compact', 'Organic', 'Ultra', 'Eco', 'Signature', 'Lite'];

export interface Product {
  id: string;
  name: string;
  category: string;
  categoryIndex: number;
  subcategory: string;
  brand: string;
  sku: string;
  priceCents: number;
  weightKg: number;
  sizes?: readonly string[];
  colors?: readonly string[];
  consumable: boolean;
}

export interface Catalogue {
  products: readonly Product[];
  categories: readonly string[];
  categoryWeights: readonly number[];
  consumable: readonly boolean[];
  /** Products of each category, most popular first. */
  byCategory: readonly (readonly Product[])[];
  /** Popularity within a category (power law). */
  pickInCategory(rng: Rng, category: number): Product;
  brandsOf(category: number): readonly string[];
}

/** Catalogue size grows slowly with the customer base (about 400 products at 2k customers, 6k at 2M). */
export function catalogueSize(customers: number): number {
  return Math.min(10000, 500 + Math.round(6 * Math.sqrt(customers)));
}

export function buildCatalogue(seed: number, size: number): Catalogue {
  const rng = new Rng(seed);
  const totalWeight = CATEGORIES.reduce((s, c) => s + c.weight, 0);
  const byCategory: Product[][] = CATEGORIES.map(() => []);
  const products: Product[] = [];
  let n = 0;
  CATEGORIES.forEach((cat, ci) => {
    const count = Math.max(10, Math.round((size * cat.weight) / totalWeight));
    for (let k = 0; k < count; k++) {
      n++;
      const brand = rng.pick(cat.brands);
      const subcategory = rng.pick(Object.keys(cat.subcategories));
      const noun = rng.pick(cat.subcategories[subcategory]!);
      const [lo, hi] = cat.price;
      // Log-uniform price, rounded to .99 (or .49 below ten dollars).
      const raw = Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
      const priceCents = raw < 1000 ? Math.max(49, Math.round(raw / 50) * 50 - 1) : Math.round(raw / 100) * 100 - 1;
      const id = `PRD${String(n).padStart(6, '0')}`;
      const product: Product = {
        id,
        name: `${brand} ${rng.pick(ADJECTIVES)} ${noun} ${String.fromCharCode(65 + (k % 26))}${Math.floor(k / 26) + 1}`,
        category: cat.name,
        categoryIndex: ci,
        subcategory,
        brand,
        sku: `${cat.name.slice(0, 3).toUpperCase()}-${brand.replace(/[^A-Za-z]/g, '').slice(0, 4).toUpperCase()}-${String(n).padStart(6, '0')}`,
        priceCents,
        weightKg: Math.round(rng.uniform(cat.weightKg[0], cat.weightKg[1]) * 100) / 100,
        sizes: cat.sizes,
        colors: cat.colors ? cat.colors.filter(() => rng.chance(0.6)).concat(cat.colors[0]!) : undefined,
        consumable: cat.consumable,
      };
      byCategory[ci]!.push(product);
      products.push(product);
    }
  });
  const zipfs = byCategory.map((ps) => new Zipf(ps.length, 0.85));
  return {
    products,
    categories: CATEGORIES.map((c) => c.name),
    categoryWeights: CATEGORIES.map((c) => c.weight),
    consumable: CATEGORIES.map((c) => c.consumable),
    byCategory,
    pickInCategory: (r, ci) => byCategory[ci]![zipfs[ci]!.draw(r)]!,
    brandsOf: (ci) => CATEGORIES[ci]!.brands,
  };
}

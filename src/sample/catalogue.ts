// The product catalogue: categories with subcategories and brands, power-law popularity, and one fixed name, brand,
// SKU, price and weight per PRODUCT_ID (every line item of a product agrees on them).
import { Rng, Zipf } from './prng.ts';

interface CategorySpec {
  name: string;
  weight: number;
  subcategories: readonly string[];
  brands: readonly string[];
  nouns: readonly string[];
  /** Price range in cents (log-uniform). */
  price: readonly [number, number];
  weightKg: readonly [number, number];
  sizes?: readonly string[];
  colors?: readonly string[];
  /** Bought again and again (repeat-purchase signal). */
  consumable: boolean;
}

const CATEGORIES: readonly CategorySpec[] = [
  { name: 'Electronics', weight: 14, subcategories: ['Phones', 'Laptops', 'Audio', 'Accessories', 'Smart Home'], brands: ['Voltix', 'Sonora', 'Pixelon', 'Nimbus', 'Arcwave'], nouns: ['Headphones', 'Charger', 'Speaker', 'Smartwatch', 'Tablet', 'Earbuds', 'Camera', 'Keyboard'], price: [1500, 150000], weightKg: [0.1, 3], colors: ['Black', 'White', 'Silver'], consumable: false },
  { name: 'Apparel', weight: 18, subcategories: ['Tops', 'Bottoms', 'Outerwear', 'Shoes', 'Activewear'], brands: ['Northline', 'Urbane', 'Kestrel', 'Maris', 'Tidewear'], nouns: ['T-Shirt', 'Jeans', 'Jacket', 'Sneakers', 'Hoodie', 'Dress', 'Leggings', 'Sweater'], price: [1200, 18000], weightKg: [0.1, 1.5], sizes: ['XS', 'S', 'M', 'L', 'XL'], colors: ['Black', 'Navy', 'Grey', 'Red', 'Olive', 'White'], consumable: false },
  { name: 'Home & Kitchen', weight: 12, subcategories: ['Cookware', 'Decor', 'Bedding', 'Storage', 'Appliances'], brands: ['Hearthly', 'Casa Nova', 'Linenry', 'Brightnest'], nouns: ['Skillet', 'Pillow', 'Lamp', 'Blender', 'Towel Set', 'Vase', 'Storage Box', 'Kettle'], price: [900, 40000], weightKg: [0.2, 8], colors: ['White', 'Grey', 'Sage', 'Terracotta'], consumable: false },
  { name: 'Beauty', weight: 10, subcategories: ['Skincare', 'Makeup', 'Haircare', 'Fragrance'], brands: ['Lumiere', 'Petalis', 'Veda', 'Glowe'], nouns: ['Moisturizer', 'Serum', 'Shampoo', 'Lipstick', 'Perfume', 'Cleanser', 'Sunscreen'], price: [600, 12000], weightKg: [0.05, 0.6], consumable: true },
  { name: 'Grocery', weight: 16, subcategories: ['Snacks', 'Beverages', 'Pantry', 'Coffee & Tea'], brands: ['Farmhouse', 'Good Grain', 'Brewster', 'Nutty Co'], nouns: ['Coffee Beans', 'Granola', 'Olive Oil', 'Green Tea', 'Protein Bar', 'Pasta', 'Sparkling Water'], price: [250, 3500], weightKg: [0.1, 2], consumable: true },
  { name: 'Sports & Outdoors', weight: 9, subcategories: ['Fitness', 'Camping', 'Cycling', 'Team Sports'], brands: ['Summit', 'Trailhead', 'Pacer', 'Ironclad'], nouns: ['Yoga Mat', 'Tent', 'Water Bottle', 'Dumbbells', 'Bike Helmet', 'Backpack', 'Football'], price: [1000, 60000], weightKg: [0.2, 10], colors: ['Black', 'Blue', 'Orange', 'Green'], consumable: false },
  { name: 'Toys & Games', weight: 7, subcategories: ['Board Games', 'Building Sets', 'Puzzles', 'Outdoor Play'], brands: ['Playvista', 'Brickly', 'Gamewright'], nouns: ['Board Game', 'Puzzle', 'Building Set', 'Plush Toy', 'Card Game'], price: [800, 15000], weightKg: [0.1, 3], consumable: false },
  { name: 'Books', weight: 6, subcategories: ['Fiction', 'Non-Fiction', 'Children', 'Cookbooks'], brands: ['Pageturn Press', 'Inkwell', 'Harbor Books'], nouns: ['Novel', 'Cookbook', 'Biography', 'Picture Book', 'Guide'], price: [700, 4500], weightKg: [0.2, 1.2], consumable: false },
  { name: 'Pet Supplies', weight: 8, subcategories: ['Dog', 'Cat', 'Aquarium'], brands: ['Pawsome', 'Whisker & Co', 'Fetchly'], nouns: ['Dog Food', 'Cat Litter', 'Chew Toy', 'Pet Bed', 'Cat Treats'], price: [400, 9000], weightKg: [0.2, 12], consumable: true },
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
  return Math.min(8000, 300 + Math.round(4 * Math.sqrt(customers)));
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
      const noun = rng.pick(cat.nouns);
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
        subcategory: rng.pick(cat.subcategories),
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
  const zipfs = byCategory.map((ps) => new Zipf(ps.length, 1.1));
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
